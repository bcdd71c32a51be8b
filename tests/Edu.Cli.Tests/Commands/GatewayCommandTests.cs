using System.Text.Json;
using Edu.Gateway.Routing;
using Edu.Gateway.State;

namespace Edu.Cli.Tests.Commands;

/// <summary><c>edu gateway status|ls|retry</c> on a real state file, and <c>edu gateway run</c> refusing a bad configuration.</summary>
public sealed class GatewayCommandTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("edu-gateway-cli-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private const string Series = "1.2.826.0.1.3680043.2.1125.7";

    private void DeadLetteredSeries()
    {
        using var state = new GatewayStateStore(Path.Combine(_data, "gateway.db"));
        var rule = new RouteRule { Name = "lung", Model = "lung-ct", Version = "2" };
        var row = state.Route(state.Receive(new SeriesFacts("1.2.826.0.1.3680043.2.1125.6", Series, "CT")).Id, new RouteDecision(rule, null));
        state.ClaimNext();
        state.MarkFailed(row.Id, "worker: InvalidArgument: no slices", maxAttempts: 5, TimeSpan.Zero, permanent: true);
        state.Route(state.Receive(new SeriesFacts("1.2.826.0.1.3680043.2.1125.6", "1.2.826.0.1.3680043.2.1125.8", "SR")).Id, new RouteDecision(null, "not an image: modality SR"));
    }

    [Fact]
    public void Status_ls_and_retry_read_and_change_the_state_file()
    {
        DeadLetteredSeries();

        var status = EduProcess.Run(["gateway", "status", "--data", _data, "--json"]);
        Assert.Equal(0, status.ExitCode);
        var counts = JsonDocument.Parse(status.StdOut).RootElement.GetProperty("series");
        Assert.Equal((1, 1, 0), (counts.GetProperty("dead-letter").GetInt32(), counts.GetProperty("skipped").GetInt32(), counts.GetProperty("routed").GetInt32()));

        var dead = EduProcess.Run(["gateway", "ls", "--data", _data, "--state", "dead-letter", "--json"]);
        Assert.Equal(0, dead.ExitCode);
        var row = Assert.Single(JsonDocument.Parse(dead.StdOut).RootElement.EnumerateArray());
        Assert.Equal((Series, "lung-ct", "no slices"), (row.GetProperty("series").GetString(), row.GetProperty("model").GetString(),
            row.GetProperty("error").GetString()!.Split(": ").Last()));

        var retry = EduProcess.Run(["gateway", "retry", "--data", _data, Series]);
        Assert.Equal(0, retry.ExitCode);
        using var state = new GatewayStateStore(Path.Combine(_data, "gateway.db"));
        Assert.Equal(SeriesState.Routed, state.List().Single(r => r.SeriesInstanceUid == Series).State);

        var table = EduProcess.Run(["gateway", "ls", "--data", _data]);
        Assert.Contains("not an image: modality SR", table.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_is_exit_2_naming_it()
    {
        var none = EduProcess.Run(["gateway", "status", "--data", Path.Combine(_data, "nothing-here")]);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("gateway.db", none.StdErr, StringComparison.Ordinal);

        DeadLetteredSeries();
        var state = EduProcess.Run(["gateway", "ls", "--data", _data, "--state", "lost"]);
        Assert.Equal(2, state.ExitCode);
        Assert.Contains("'lost' is not one of", state.StdErr, StringComparison.Ordinal);

        var retry = EduProcess.Run(["gateway", "retry", "--data", _data, "1.2.3.4"]);
        Assert.Equal(2, retry.ExitCode);
        Assert.Contains("no failed or dead-lettered series", retry.StdErr, StringComparison.Ordinal);

        string config = Path.Combine(_data, "bad.json");
        File.WriteAllText(config, """{ "Gateway": { "Pacs": { "OrthancUrl": "" }, "Routes": [ { "Name": "x", "Model": "m", "SeriesDescription": "([" } ] } }""");
        var run = EduProcess.Run(["gateway", "run", "--config", config, "--data", Path.Combine(_data, "gw")]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no ingest", run.StdErr, StringComparison.Ordinal);

        File.WriteAllText(config, """{ "Gateway": { "Routes": [ { "Name": "x", "Model": "m", "SeriesDescription": "([" } ] } }""");
        run = EduProcess.Run(["gateway", "run", "--config", config, "--data", Path.Combine(_data, "gw")]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Gateway:Routes:0 (x)", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("not a regular expression", run.StdErr, StringComparison.Ordinal);

        File.WriteAllText(config, """{ "Gateway": { "StoreScp": { "Enabled": true, "BindAddress": "localhost" }, "Routes": [ { "Name": "x", "Model": "m" } ] } }""");
        run = EduProcess.Run(["gateway", "run", "--config", config, "--data", Path.Combine(_data, "gw")]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Gateway:StoreScp:BindAddress 'localhost' is not an IP address", run.StdErr, StringComparison.Ordinal);
    }
}
