using System.CommandLine;

namespace Edu.Cli.Commands;

/// <summary><c>edu bench train|infer|io</c>: training step time and memory, inference latency, image reading.</summary>
public static class BenchCommand
{
    /// <summary>Creates the command group.</summary>
    public static Command Create()
    {
        var command = new Command("bench", "Benchmark the models: training step time and peak memory, inference latency in float32 and bfloat16.");
        command.Subcommands.Add(BenchTrainCommand.Create());
        command.Subcommands.Add(BenchInferCommand.Create());
        command.Subcommands.Add(BenchOnnxCommand.Create());
        command.Subcommands.Add(BenchIoCommand.Create());
        command.Subcommands.Add(BenchGrpcCommand.Create());
        command.Subcommands.Add(BenchConvergeCommand.Create());
        command.Subcommands.Add(BenchGatewayCommand.Create());
        command.Subcommands.Add(BenchQueueCommand.Create());
        command.Subcommands.Add(BenchParityCommand.Create());
        return command;
    }
}
