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
        var thorough = new Option<bool>("--thorough") { Description = "Run the numeric self-check over its whole grid of convolution shapes (a few seconds) instead of the quick set." };
        var command = new Command("doctor", "Report the .NET runtime, TorchSharp/LibTorch, devices, GDCM and plugin folders; exit 0 only when everything required loads.")
        {
            json,
            thorough,
        };
        command.SetAction(parse =>
        {
            var report = DoctorReport.Collect(parse.GetValue(thorough));
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
        Row("CPU model", $"{r.Cpu.Model} ({r.Cpu.Vendor}), oneDNN ISA {r.Cpu.OneDnnIsa}"
            + (r.Cpu.IsaCap is null ? "" : $" (ONEDNN_MAX_CPU_ISA={r.Cpu.IsaCap})"));
        Row("CPU flags", r.Cpu.Flags.Count == 0 ? "none read" : string.Join(' ', r.Cpu.Flags));
        if (r.Numerics is { } n)
        {
            Row("Numerics", $"{n.Configuration} ({(n.Configuration == "onednn-off" ? "oneDNN off" : "oneDNN")}; self-check right, {n.CheckMilliseconds:0} ms)");
            Row("  channels-first", n.ChannelsFirstRight ? "right" : "WRONG on this CPU (oneDNN blocked-layout gradients; not used)");
            Row("  channels-last", n.ChannelsLastRight ? "right" : "WRONG on this CPU (not used)");
            Row("  1-channel input", n.SingleChannelInputRight ? "right" : "wrong input gradient (never needed in training)");
        }
        Row("CUDA", cuda);
        Row("GDCM", r.Gdcm.Loaded ? $"{r.Gdcm.Version} loaded from {r.Gdcm.Path}" : $"NOT LOADED from {r.Gdcm.Path}: {r.Gdcm.Error}");
        Row("ONNX Runtime", r.OnnxRuntime.Loaded ? $"{r.OnnxRuntime.Version} (--backend onnxruntime)" : $"not loaded: {r.OnnxRuntime.Error} (only --backend onnxruntime needs it)");
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
