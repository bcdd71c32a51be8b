using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Gateway;
using Edu.Gateway.Host;
using Edu.Gateway.State;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu gateway run|status|ls|retry</c>: the PACS gateway. <c>run</c> is the same host as <c>edu-gateway</c>; the
/// others read and change its state file (<c>gateway.db</c> in <c>--data</c>), also while it runs.
/// </summary>
public static class GatewayCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var command = new Command("gateway", "The PACS gateway: DICOM in (Orthanc, C-STORE), routed to a model, segmented by a worker, DICOM SEG back into the study.");
        command.Subcommands.Add(RunCommand());
        command.Subcommands.Add(StatusCommand());
        command.Subcommands.Add(ListCommand());
        command.Subcommands.Add(RetryCommand());
        return command;
    }

    private static Command RunCommand()
    {
        var config = new Option<string?>("--config") { Description = "A JSON file with a Gateway section (see docs/pacs.md); read after appsettings.json, before EDU_ variables." };
        var data = new Option<string?>("--data") { Description = "Folder of the state file and spool (default: Gateway:DataPath, 'gateway-data')." };
        var command = new Command("run", "Run the gateway until Ctrl+C or SIGTERM (the same service as edu-gateway).") { config, data };
        command.SetAction(async (parse, ct) =>
        {
            var args = new List<string>();
            if (parse.GetValue(config) is { } c) args.AddRange(["--config", c]);
            if (parse.GetValue(data) is { } d) args.Add($"--Gateway:DataPath={d}");
            return await GatewayHost.RunAsync([.. args], ct).ConfigureAwait(false);
        });
        return command;
    }

    private static Option<string> DataOption() =>
        new("--data") { Description = "The gateway's data folder (Gateway:DataPath), holding gateway.db.", DefaultValueFactory = _ => new GatewayOptions().DataPath };

    private static Command StatusCommand()
    {
        var data = DataOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object {\"state\", \"series\": {state: count}}." };
        var command = new Command("status", "How many series are in each state.") { data, json };
        command.SetAction(parse =>
        {
            using var state = Open(parse.GetValue(data)!);
            var counts = state.Counts().ToDictionary(kv => Name(kv.Key), kv => kv.Value);
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { state = StateFile(parse.GetValue(data)!), series = counts }, CliJson.Options));
            else
                foreach (var (name, count) in counts) Console.WriteLine($"{name,-12} {count}");
            return 0;
        });
        return command;
    }

    private static Command ListCommand()
    {
        var data = DataOption();
        var filter = new Option<string?>("--state") { Description = "Only series in this state: received, routed, segmenting, stored, failed, dead-letter, skipped." };
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first.", DefaultValueFactory = _ => 50 };
        var json = new Option<bool>("--json") { Description = "Print one JSON array." };
        var command = new Command("ls", "The series the gateway knows, newest first: state, model, attempts, last error, timings.") { data, filter, limit, json };
        command.SetAction(parse =>
        {
            SeriesState? wanted = parse.GetValue(filter) is { } f ? ParseState(f) : null;
            using var state = Open(parse.GetValue(data)!);
            var rows = state.List(wanted, Math.Max(1, parse.GetValue(limit)));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(rows.Select(r => new
                {
                    id = r.Id, study = r.StudyInstanceUid, series = r.SeriesInstanceUid, state = Name(r.State), model = r.Model, version = r.Version, rule = r.Rule,
                    attempts = r.Attempts, error = r.LastError, arrived = Time(r.ArrivedUnixMs), lastInstance = Time(r.LastActivityUnixMs), updated = Time(r.UpdatedUnixMs),
                    seg = r.SegInstanceUid, timings = r.TimingsJson.Length == 0 ? (JsonElement?)null : JsonDocument.Parse(r.TimingsJson).RootElement,
                }), CliJson.Options));
                return 0;
            }
            Console.WriteLine($"{"id",5}  {"state",-11}  {"model",-16}  {"att",3}  {"updated (UTC)",-19}  series / last error");
            foreach (var r in rows)
                Console.WriteLine($"{r.Id,5}  {Name(r.State),-11}  {(r.Model + (r.Version.Length > 0 ? "@" + r.Version : "")),-16}  {r.Attempts,3}  {Time(r.UpdatedUnixMs),-19}  {r.SeriesInstanceUid}"
                    + (r.LastError.Length > 0 ? $"  {r.LastError}" : ""));
            return 0;
        });
        return command;
    }

    private static Command RetryCommand()
    {
        var data = DataOption();
        var series = new Argument<string>("SERIES_UID") { Description = "SeriesInstanceUID of a failed or dead-lettered series." };
        var command = new Command("retry", "Send a failed or dead-lettered series again (attempts start from zero); the running gateway picks it up.") { data, series };
        command.SetAction(parse =>
        {
            using var state = Open(parse.GetValue(data)!);
            string uid = parse.GetValue(series)!;
            int n = state.Retry(uid);
            if (n == 0) throw new InvalidInputException(uid, "no failed or dead-lettered series has this SeriesInstanceUID (see edu gateway ls --state dead-letter)");
            Console.WriteLine($"{n} series routed again");
            return 0;
        });
        return command;
    }

    private static string StateFile(string data) => new GatewayOptions { DataPath = data }.StateFile;

    private static GatewayStateStore Open(string data)
    {
        string file = StateFile(data);
        if (!File.Exists(file)) throw new InvalidInputException(data, $"holds no gateway state file (gateway.db); give the gateway's Gateway:DataPath with --data");
        return new GatewayStateStore(file);
    }

    private static string Name(SeriesState state) => state.Name();

    private static SeriesState ParseState(string name) => SeriesStates.Parse(name)
        ?? throw new InvalidInputException("--state", $"'{name}' is not one of received, routed, segmenting, stored, failed, dead-letter, skipped");

    private static string Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
