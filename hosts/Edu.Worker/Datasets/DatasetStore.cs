using System.Text.RegularExpressions;
using Edu.Abstractions.Errors;
using Edu.V1;
using Edu.Worker.Configuration;
using Edu.Worker.Errors;
using Edu.Worker.Metrics;
using Edu.Worker.Segmentation;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Datasets;

/// <summary>
/// Datasets on the worker: uploaded ones live in <c>DATA/datasets/{name}</c>; a training request may also name
/// an absolute folder on the worker. An upload goes to a hidden staging folder and is renamed into place only
/// when complete, so a cut-off upload never looks like a dataset; an existing name is never overwritten.
/// </summary>
public sealed partial class DatasetStore
{
    private readonly WorkerOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger<DatasetStore> _logger;

    /// <summary>Creates the store.</summary>
    public DatasetStore(IOptions<WorkerOptions> options, WorkerMetrics metrics, ILogger<DatasetStore> logger)
    {
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The folder of uploaded datasets.</summary>
    public string Root => Path.Combine(Path.GetFullPath(_options.DataPath), "datasets");

    /// <summary>The folder a training request's <c>dataset</c> names: an uploaded name or an absolute path; checked to exist.</summary>
    public string Resolve(string dataset)
    {
        if (string.IsNullOrWhiteSpace(dataset))
            throw new InvalidInputException("dataset", "no dataset given (an uploaded dataset's name or an absolute folder on the worker)");
        if (Path.IsPathRooted(dataset))
        {
            if (!Directory.Exists(dataset)) throw new NotFoundException($"dataset folder '{dataset}'");
            return dataset;
        }
        CheckName(dataset);
        string path = Path.Combine(Root, dataset);
        if (!Directory.Exists(path)) throw new NotFoundException($"dataset '{dataset}'", "upload it with UploadDataset or name an absolute folder");
        return path;
    }

    /// <summary>Receives an upload: a header, then file chunks with relative paths.</summary>
    public async Task<UploadDatasetResponse> UploadAsync(IAsyncStreamReader<UploadDatasetRequest> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) || requests.Current.PayloadCase != UploadDatasetRequest.PayloadOneofCase.Header)
            throw new InvalidInputException("request", "the first message must be a DatasetHeader with the dataset's name");
        string name = requests.Current.Header.Name;
        CheckName(name);
        string target = Path.Combine(Root, name);
        if (Directory.Exists(target))
            throw new ConflictException($"dataset '{name}' exists on this worker; choose another name", alreadyExists: true);
        Directory.CreateDirectory(Root);
        string staging = Path.Combine(Root, $".upload-{name}-{Guid.NewGuid():N}");
        using var spool = new UploadSpool(staging, _options.MaxDatasetBytes, int.MaxValue, allowSubfolders: true, _metrics);
        while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            if (requests.Current.PayloadCase != UploadDatasetRequest.PayloadOneofCase.Chunk)
                throw new InvalidInputException("request", "a second header arrived; send one header, then file chunks");
            await spool.AddAsync(requests.Current.Chunk, cancellationToken).ConfigureAwait(false);
        }
        await spool.CompleteAsync().ConfigureAwait(false);
        try
        {
            Directory.Move(staging, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            throw new ConflictException($"dataset '{name}' was created by another upload meanwhile", alreadyExists: true);
        }
        _logger.LogInformation("Dataset {Name} uploaded: {Files} files, {Bytes} bytes", name, spool.Files.Count, spool.Bytes);
        return new UploadDatasetResponse { Name = name, Files = spool.Files.Count, Bytes = spool.Bytes };
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 100 || !NamePattern().IsMatch(name) || name.StartsWith('.'))
            throw new InvalidInputException("dataset name", $"'{name}' must be 1-100 letters, digits, '-', '_' or '.', not starting with '.'");
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NamePattern();
}
