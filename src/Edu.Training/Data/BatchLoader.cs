using System.Diagnostics;
using System.Threading.Channels;
using Edu.Training.Augmentation;
using Edu.Training.Datasets;

namespace Edu.Training.Data;

/// <summary>
/// Produces one epoch's batches on a background thread into a bounded channel (at most <c>prefetch</c> batches
/// wait in memory). Everything random derives from (seed, epoch, step, sample), so the batches of an epoch are
/// the same whichever thread makes them and however the run was interrupted. <see cref="Next"/> reports how long
/// the consumer waited.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    private readonly Channel<TrainingBatch> _channel;
    private readonly CancellationTokenSource _cts;
    private readonly Task _producer;

    /// <summary>Starts producing the batches of <paramref name="epoch"/>, from step <paramref name="firstStep"/> (a run resumed inside an epoch).</summary>
    public BatchLoader(IReadOnlyList<PreparedCase> cases, PatchSampler sampler, int batchSize, int steps, int seed, int epoch,
        double foregroundShare, int prefetch, CancellationToken cancellationToken, int firstStep = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstStep);
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(sampler);
        if (cases.Count == 0) throw new ArgumentException("no cases", nameof(cases));
        _channel = Channel.CreateBounded<TrainingBatch>(new BoundedChannelOptions(prefetch) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = _cts.Token;
        _producer = Task.Run(async () =>
        {
            try
            {
                // the epoch's case order: a seeded shuffle, repeated as often as the steps need
                var order = Enumerable.Range(0, cases.Count).ToArray();
                new Random(SeedMixer.Mix(seed, epoch, -1)).Shuffle(order);
                int channels = cases[0].Channels, n = sampler.PatchVoxels;
                long[] shape = sampler.PatchZ == 1 ? [sampler.PatchY, sampler.PatchX] : [sampler.PatchZ, sampler.PatchY, sampler.PatchX];
                for (int s = firstStep; s < steps; s++)
                {
                    token.ThrowIfCancellationRequested();
                    var images = new float[batchSize * channels * n];
                    var labels = new float[batchSize * n];
                    for (int i = 0; i < batchSize; i++)
                    {
                        var c = cases[order[(s * batchSize + i) % order.Length]];
                        var rng = new Random(SeedMixer.Mix(seed, epoch, s, i));
                        bool fg = rng.NextDouble() < foregroundShare;
                        sampler.Sample(c, rng, fg, images.AsSpan(i * channels * n, channels * n), labels.AsSpan(i * n, n));
                    }
                    await _channel.Writer.WriteAsync(new TrainingBatch(s, batchSize, channels, shape, images, labels), token).ConfigureAwait(false);
                }
                _channel.Writer.Complete();
            }
            catch (Exception e)
            {
                _channel.Writer.TryComplete(e);
            }
        }, CancellationToken.None);
    }

    /// <summary>The next batch, or null at the end of the epoch; <paramref name="waited"/> is the time spent waiting for it.</summary>
    public TrainingBatch? Next(out TimeSpan waited)
    {
        var sw = Stopwatch.StartNew();
        var reader = _channel.Reader;
        try
        {
            while (true)
            {
                if (reader.TryRead(out var batch)) { waited = sw.Elapsed; return batch; }
                if (!reader.WaitToReadAsync(_cts.Token).AsTask().GetAwaiter().GetResult())
                {
                    waited = sw.Elapsed;
                    reader.Completion.GetAwaiter().GetResult(); // rethrows a producer failure
                    return null;
                }
            }
        }
        catch (ChannelClosedException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _cts.Cancel();
        try { _producer.GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { }
        _cts.Dispose();
    }
}
