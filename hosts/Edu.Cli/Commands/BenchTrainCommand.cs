using System.CommandLine;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Models.Benchmarks;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench train --model NAME [--dims 2] [--batch 4] [--size 128] [--threads 2] [--steps 5] [--warmup 2] [--device cpu] [--precision fp32|bf16|fp16] [--json]</c>:
/// one model per process (so peak RSS is that model's); with --json the last stdout line is the result object.
/// </summary>
public static class BenchTrainCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var o = new BenchOptions();
        var precisionOption = new Option<string>("--precision")
        {
            Description = "fp32, bf16 (autocast in bfloat16) or fp16 (autocast in float16 with loss scaling; CUDA, or CPUs with AVX512-FP16).",
            DefaultValueFactory = _ => "fp32",
        };
        var command = new Command("train", "Time training steps (forward, BCE+Dice, backward, Adam) of one model; report median/min/max ms and peak RSS.");
        o.AddTo(command);
        command.Options.Add(precisionOption);
        command.SetAction(parse =>
        {
            var a = o.Read(parse);
            var precision = Precisions.Parse(parse.GetValue(precisionOption));
            TorchRuntime.EnsureLoaded();
            var device = DeviceSpec.Parse(a.Device);
            var r = TrainStepBenchmark.Run(ModelCatalogue.CreateBuiltIn(), a.Model, a.Dims, a.Batch, a.Size, a.Threads, a.Steps, a.Warmup, device,
                baseChannels: a.Base, precision: precision);
            if (a.Json)
                Console.Out.WriteLine(JsonSerializer.Serialize(r, CliJson.Options));
            else
                Console.Out.WriteLine($"{r.Model} {r.Dims}-D batch {r.Batch} size {r.Size} threads {r.Threads} on {r.Device} in {r.Precision}: " +
                                      $"{r.Parameters:N0} parameters, median {r.MedianMs} ms/step (min {r.MinMs}, max {r.MaxMs}), peak RSS {r.PeakRssMb} MiB; " +
                                      $"{r.MemoryFormat}, numerics {r.Numerics}, {r.Cpu}");
            return CliApp.Ok;
        });
        return command;
    }
}

/// <summary>The options <c>bench train</c> and <c>bench infer</c> share.</summary>
internal sealed class BenchOptions
{
    private readonly Option<string> _model = new("--model") { Description = "Catalogue name (see `edu models`).", Required = true };
    private readonly Option<int> _dims = new("--dims") { Description = "2 or 3.", DefaultValueFactory = _ => 2 };
    private readonly Option<int> _batch = new("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 4 };
    private readonly Option<int> _size = new("--size") { Description = "Edge length of the square/cubic input (divisible by 16).", DefaultValueFactory = _ => 128 };
    private readonly Option<int> _threads = new("--threads") { Description = "Intra-op CPU threads.", DefaultValueFactory = _ => 2 };
    private readonly Option<int> _steps = new("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 5 };
    private readonly Option<int> _warmup = new("--warmup") { Description = "Untimed warm-up steps.", DefaultValueFactory = _ => 2 };
    private readonly Option<string> _device = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    private readonly Option<int?> _base = new("--base") { Description = "Base width (default 32 in 2-D, 16 in 3-D)." };
    private readonly Option<string?> _memoryFormat = new("--memory-format") { Description = "CPU activation layout: channels-last (the default policy) or channels-first, to compare the two." };
    private readonly Option<bool> _json = new("--json") { Description = "Print the result as one JSON object (the last stdout line)." };

    public void AddTo(Command c)
    {
        foreach (var option in new Option[] { _model, _dims, _batch, _size, _threads, _steps, _warmup, _device, _base, _memoryFormat, _json })
            c.Options.Add(option);
    }

    public (string Model, int Dims, int Batch, int Size, int Threads, int Steps, int Warmup, string Device, int? Base, bool Json) Read(ParseResult p)
    {
        string model = p.GetValue(_model)!;
        int dims = p.GetValue(_dims), batch = p.GetValue(_batch), size = p.GetValue(_size);
        int threads = p.GetValue(_threads), steps = p.GetValue(_steps), warmup = p.GetValue(_warmup);
        if (ModelCatalogue.CreateBuiltIn().Find(model) is null)
            throw new InvalidInputException("--model", $"no model named '{model}'; known: {string.Join(", ", ModelCatalogue.BuiltInNames)}");
        if (dims is not (2 or 3)) throw new InvalidInputException("--dims", $"{dims} is not supported: use 2 or 3");
        if (batch < 1) throw new InvalidInputException("--batch", "must be at least 1");
        if (size < 16 || size % 16 != 0) throw new InvalidInputException("--size", $"{size} must be a positive multiple of 16 (four 2× poolings)");
        if (threads < 1) throw new InvalidInputException("--threads", "must be at least 1");
        if (steps < 1) throw new InvalidInputException("--steps", "must be at least 1");
        if (warmup < 0) throw new InvalidInputException("--warmup", "must not be negative");
        if (p.GetValue(_memoryFormat) is { } layoutText)
            MemoryFormat.OverrideCpu(MemoryFormat.Parse(layoutText)
                ?? throw new InvalidInputException("--memory-format", $"'{layoutText}' is not a memory format: use channels-last or channels-first"));
        return (model, dims, batch, size, threads, steps, warmup, p.GetValue(_device)!, p.GetValue(_base), p.GetValue(_json));
    }
}
