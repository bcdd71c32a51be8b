using System.CommandLine;
using System.Text.Json;
using Edu.Inference.Benchmarks;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench onnx --model NAME [--dims 2] [--batch 4] [--size 128] [--threads 2] [--steps 5] [--warmup 2] [--json]</c>:
/// TorchSharp against ONNX Runtime, float32 inference on the CPU, same net, weights and batch, alternating step by step.
/// </summary>
public static class BenchOnnxCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var o = new BenchOptions();
        var command = new Command("onnx", "Time float32 CPU inference of one model through TorchSharp and through ONNX Runtime (the net exported to ONNX); report both and how far their logits differ.");
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var a = o.Read(parse);
            if (a.Device != "cpu") throw new Edu.Abstractions.Errors.InvalidInputException("--device", "ONNX Runtime runs on the CPU in this build: use --device cpu");
            TorchRuntime.EnsureLoaded();
            var r = OnnxRuntimeBenchmark.Run(ModelCatalogue.CreateBuiltIn(), a.Model, a.Dims, a.Batch, a.Size, a.Threads, a.Steps, a.Warmup, a.Base);
            if (a.Json)
                Console.Out.WriteLine(JsonSerializer.Serialize(r, CliJson.Options));
            else
            {
                foreach (var t in r.Timings)
                    Console.Out.WriteLine($"{r.Model} {r.Dims}-D {t.Backend,-11}: median {t.MedianMs} ms/batch of {r.Batch} at {r.Size}, {t.ImagesPerSecond} images/s");
                Console.Out.WriteLine($"max |logit difference| {r.MaxAbsDiff:G3} (logit std {r.LogitStd:G3}, foreground {r.ForegroundShare:P1}), mask agreement Dice {r.AgreementDice}; ONNX {r.OnnxBytes / 1e6:F1} MB, export {r.ExportMs} ms, " +
                                      $"session {r.SessionMs} ms; ONNX Runtime {r.OnnxRuntimeVersion}; peak RSS {r.PeakRssMb} MiB; {r.MemoryFormat}, {r.Cpu}");
            }
            return CliApp.Ok;
        });
        return command;
    }
}
