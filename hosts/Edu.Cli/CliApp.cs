using System.CommandLine;
using Edu.Abstractions.Errors;
using Edu.Cli.Commands;

namespace Edu.Cli;

/// <summary>
/// The <c>edu</c> command: builds the command tree, runs it, and turns failures into exit codes.
/// Exit codes: 0 success; 1 the work failed (or <c>doctor</c> found a problem); 2 bad input or usage.
/// Errors go to stderr as one line starting with <c>error:</c>; stdout stays clean for <c>--json</c>.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;
    /// <summary>Exit code when the work itself failed.</summary>
    public const int Failed = 1;
    /// <summary>Exit code for bad input: a wrong file, folder, option or request.</summary>
    public const int BadInput = 2;

    /// <summary>Every top-level command, in the order <c>--help</c> lists them.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("EDU.Framework: medical image segmentation (U-Net family, E-DU) on TorchSharp.");
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(SegmentCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(DatasetCommand.Create());
        root.Subcommands.Add(SynthCommand.Create());
        root.Subcommands.Add(PluginsCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(GatewayCommand.Create());
        root.Subcommands.Add(RemoteCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        return root;
    }

    /// <summary>Parses <paramref name="args"/>, runs the command and returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var parse = BuildRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run `edu --help` (or `edu COMMAND --help`) for usage.");
            return BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (InvalidInputException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("error: cancelled");
            return Failed;
        }
        catch (EduException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Failed;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("EDU_DEBUG") != "1")
        {
            // A defect, not a user error: say so plainly; EDU_DEBUG=1 shows the stack trace.
            Console.Error.WriteLine($"error: internal error ({e.GetType().Name}): {e.Message} (set EDU_DEBUG=1 for details)");
            return Failed;
        }
    }
}
