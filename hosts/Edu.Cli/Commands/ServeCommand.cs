using System.CommandLine;
using Edu.Worker;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu serve [--urls URL] [--models DIR] [--data DIR] [--device D] [--api-key K]</c>: runs the gRPC worker
/// in this process (the same host as <c>edu-worker</c>) until Ctrl+C or SIGTERM; a running training is
/// checkpointed and resumes at the next start.
/// </summary>
public static class ServeCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen (';'-separated), e.g. http://127.0.0.1:50051.", DefaultValueFactory = _ => WorkerHost.DefaultUrl };
        var models = new Option<string?>("--models") { Description = "Folder of model packages (default: Worker:ModelsPath, 'models')." };
        var data = new Option<string?>("--data") { Description = "Folder for jobs.db, datasets and runs (default: Worker:DataPath, 'data')." };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or cuda:N (default: Worker:Device, cpu)." };
        var apiKey = new Option<string?>("--api-key") { Description = "Require this API key (default: Worker:ApiKey / EDU_Worker__ApiKey). Needed to listen beyond loopback." };
        var metricsUrl = new Option<string?>("--metrics-url") { Description = "HTTP/1.1 address of the Prometheus endpoint (default: Worker:MetricsUrl, http://127.0.0.1:9464/metrics); 'off' for none. Each worker on a machine needs its own." };
        var command = new Command("serve", "Run the gRPC worker (segmentation, training jobs, models, plugins, health, reflection, /metrics).")
        {
            urls, models, data, device, apiKey, metricsUrl,
        };
        command.SetAction(async (parse, ct) =>
        {
            var args = new List<string> { "--urls", parse.GetValue(urls)! };
            void Add(string key, string? value)
            {
                if (value is not null) args.Add($"--Worker:{key}={value}");
            }
            Add("ModelsPath", parse.GetValue(models));
            Add("DataPath", parse.GetValue(data));
            Add("Device", parse.GetValue(device));
            Add("ApiKey", parse.GetValue(apiKey));
            if (parse.GetValue(metricsUrl) is { } m) Add("MetricsUrl", m.Equals("off", StringComparison.OrdinalIgnoreCase) ? "" : m);
            return await WorkerHost.RunAsync([.. args], ct).ConfigureAwait(false);
        });
        return command;
    }
}
