using System.CommandLine;
using System.Text.Json;
using Edu.Models.Benchmarks;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;

namespace Edu.Cli.Commands;

/// <summary><c>edu bench infer --model NAME ...</c>: inference latency and throughput in float32 and bfloat16, and their agreement Dice.</summary>
public static class BenchInferCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var o = new BenchOptions();
        var command = new Command("infer", "Time eval-mode forward passes of one model in float32 and bfloat16; report latency, throughput and Dice agreement of the two masks.");
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var a = o.Read(parse);
            TorchRuntime.EnsureLoaded();
            var device = DeviceSpec.Parse(a.Device);
            var r = InferBenchmark.Run(ModelCatalogue.CreateBuiltIn(), a.Model, a.Dims, a.Batch, a.Size, a.Threads, a.Steps, a.Warmup, device, a.Base);
            if (a.Json)
                Console.Out.WriteLine(JsonSerializer.Serialize(r, CliJson.Options));
            else
            {
                foreach (var t in r.Timings)
                    Console.Out.WriteLine($"{r.Model} {t.DType,-8}: median {t.MedianMs} ms/batch of {r.Batch}, {t.ImagesPerSecond} images/s");
                Console.Out.WriteLine($"agreement Dice float32 vs bfloat16: {r.AgreementDice}; peak RSS {r.PeakRssMb} MiB; {r.MemoryFormat}, numerics {r.Numerics}, {r.Cpu}");
            }
            return CliApp.Ok;
        });
        return command;
    }
}
