using System.CommandLine;
using System.Text.Json;
using Edu.Cli.Diagnostics;

namespace Edu.Cli.Commands;

/// <summary><c>edu doctor [--json]</c>: what runs, what loads, and how to fix what does not.</summary>
public static class DoctorCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the summary." };
        var command = new Command("doctor", "Report the .NET runtime, TorchSharp/LibTorch, devices, GDCM and plugin folders; exit 0 only when everything required loads.")
        {
            json,
        };
        command.SetAction(parse =>
        {
            var report = DoctorReport.Collect();
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            else
                WriteSummary(report);
            return report.Ok ? CliApp.Ok : CliApp.Failed;
        });
        return command;
    }

    private static void WriteSummary(DoctorReport r)
    {
        var cuda = r.Devices.Cuda.Available
            ? $"{r.Devices.Cuda.Count} device(s): {string.Join(", ", r.Devices.Cuda.Names)}"
            : $"none (backend: {r.Torch.Backend})";
        Row(".NET", $"{r.Dotnet.Runtime} ({r.Dotnet.Rid}; {r.Dotnet.Os})");
        Row("TorchSharp", r.Torch.TorchSharp);
        Row("LibTorch", r.Torch.Loaded ? $"{r.Torch.LibTorch} loaded (backend: {r.Torch.Backend})" : $"NOT LOADED: {r.Torch.Error}");
        Row("CPU", $"{r.Devices.CpuCores} cores, {r.Devices.TorchThreads} torch threads");
        Row("CUDA", cuda);
        Row("GDCM", r.Gdcm.Loaded ? $"{r.Gdcm.Version} loaded from {r.Gdcm.Path}" : $"NOT LOADED from {r.Gdcm.Path}: {r.Gdcm.Error}");
        foreach (var folder in r.PluginFolders)
            Row("Plugin folder", $"{folder.Path}{(folder.Exists ? "" : " (not present)")}");
        Console.Out.WriteLine();
        if (r.Ok)
        {
            Console.Out.WriteLine("Everything required loads.");
            return;
        }
        foreach (var p in r.Problems)
            Console.Out.WriteLine($"problem: {p.Component}: {p.What}. Fix: {p.Fix}");
    }

    private static void Row(string name, string value) => Console.Out.WriteLine($"  {name,-14} {value}");
}
