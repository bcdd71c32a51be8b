using System.Runtime.InteropServices;
using Edu.Abstractions.Errors;
using Edu.Models.Runtime;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Training.Evaluation;

/// <summary>
/// Segments a preprocessed image (voxels [c][z][y][x]) with a trained net: tiles of the patch size with half-patch
/// overlap (one tile when the image fits), zero padding up to the patch, probabilities averaged where tiles
/// overlap, then arg-max (softmax nets) or a 0.5 threshold (one-channel sigmoid nets). A 2-D net segments a 3-D
/// volume slice by slice. Runs under <c>eval()</c> and <c>no_grad()</c>; tensors live in a dispose scope. Logits holding
/// NaN or ∞ are a <see cref="NumericsException"/> naming the model, never labels.
/// </summary>
public static class SlidingWindowSegmenter
{
    /// <summary>Label values [z][y][x] for the image.</summary>
    /// <param name="model">The net (put into eval mode here).</param>
    /// <param name="spatialDims">The net's spatial dims (2 or 3).</param>
    /// <param name="image">Voxels [c][z][y][x].</param>
    /// <param name="channels">Channels.</param>
    /// <param name="x">Columns.</param>
    /// <param name="y">Rows.</param>
    /// <param name="z">Slices.</param>
    /// <param name="patch">Tile shape: [Y, X] in 2-D, [Z, Y, X] in 3-D.</param>
    /// <param name="device">Where the net lives.</param>
    /// <param name="modelName">How errors name the net (e.g. its architecture and run folder).</param>
    public static byte[] Segment(Module<Tensor, Tensor> model, int spatialDims, ReadOnlyMemory<float> image, int channels, int x, int y, int z, int[] patch, Device device,
        string modelName = "the model")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(patch);
        model.eval();
        using var noGrad = no_grad();
        var result = new byte[(long)x * y * z];
        if (spatialDims == 2)
        {
            int plane = x * y;
            var slice = new float[channels * plane];
            for (int k = 0; k < z; k++)
            {
                for (int c = 0; c < channels; c++)
                    image.Span.Slice((c * z + k) * plane, plane).CopyTo(slice.AsSpan(c * plane, plane));
                var labels = Tiled(model, slice, channels, [y, x], patch, device, modelName);
                Array.Copy(labels, 0, result, (long)k * plane, plane);
            }
            return result;
        }
        // an in-memory case goes to the tensor as it is; a memory-mapped one is copied once
        float[] voxels = MemoryMarshal.TryGetArray(image, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : image.ToArray();
        return Tiled(model, voxels, channels, [z, y, x], patch, device, modelName);
    }

    private static byte[] Tiled(Module<Tensor, Tensor> model, float[] data, int channels, int[] size, int[] patch, Device device, string modelName)
    {
        using var scope = NewDisposeScope();
        int d = size.Length;
        var padded = size.Select((s, i) => Math.Max(s, patch[i])).ToArray();
        var input = tensor(data, [1, channels, .. size.Select(s => (long)s)]).to(device);
        if (!padded.SequenceEqual(size))
        {
            // pad at the end of each axis (F.pad takes pairs from the last axis backwards)
            var pads = new long[2 * d];
            for (int i = 0; i < d; i++) pads[2 * (d - 1 - i) + 1] = padded[i] - size[i];
            input = functional.pad(input, pads);
        }
        input = MemoryFormat.Apply(input); // once per volume: the windows are views in the net's layout (docs/cpu.md)
        Tensor? sum = null;
        var count = zeros([1, 1, .. padded.Select(p => (long)p)], device: device);
        foreach (var start in Starts(padded, patch))
        {
            var idx = new TensorIndex[2 + d];
            idx[0] = TensorIndex.Colon;
            idx[1] = TensorIndex.Colon;
            for (int i = 0; i < d; i++) idx[2 + i] = TensorIndex.Slice(start[i], start[i] + patch[i]);
            var logits = model.forward(input[idx]);
            if (!isfinite(logits).all().item<bool>())
                throw new NumericsException($"{modelName}: the net's output (logits) holds NaN or infinite values; no labels are made from it (are its weights finite?)");
            var prob = logits.shape[1] == 1 ? functional.sigmoid(logits) : functional.softmax(logits, 1);
            sum ??= zeros([1, prob.shape[1], .. padded.Select(p => (long)p)], device: device);
            sum[idx].add_(prob, Scalars.One);
            count[idx].add_(Scalars.One, Scalars.One); // process-wide scalars, value and alpha (Runtime.Scalars)
        }
        var mean = sum! / count;
        var crop = new TensorIndex[2 + d];
        crop[0] = TensorIndex.Single(0);
        crop[1] = TensorIndex.Colon;
        for (int i = 0; i < d; i++) crop[2 + i] = TensorIndex.Slice(0, size[i]);
        mean = mean[crop];
        var labels = mean.shape[0] == 1 ? mean[0].gt(Scalars.Of(0.5)) : mean.argmax(0);
        return labels.to_type(ScalarType.Byte).cpu().data<byte>().ToArray();
    }

    private static IEnumerable<int[]> Starts(int[] size, int[] patch)
    {
        var perAxis = size.Select((s, i) => AxisStarts(s, patch[i])).ToArray();
        IEnumerable<int[]> acc = [[]];
        foreach (var axis in perAxis)
            acc = acc.SelectMany(prefix => axis.Select(v => (int[])[.. prefix, v])).ToList();
        return acc;
    }

    private static List<int> AxisStarts(int size, int patch)
    {
        var starts = new List<int>();
        if (size <= patch) { starts.Add(0); return starts; }
        int step = Math.Max(1, patch / 2);
        for (int s = 0; s + patch < size; s += step) starts.Add(s);
        starts.Add(size - patch);
        return starts;
    }
}
