namespace Edu.Client;

/// <summary>
/// What a <see cref="SegmentClient"/> call is doing: <c>upload</c> (the fraction of the input bytes sent), the worker's own
/// stages <c>queue</c>, <c>read</c> and <c>inference</c> (fractions as it reports them), or <c>busy</c> (the worker turned
/// the try away; <paramref name="RetryIn"/> says when the next one starts).
/// </summary>
/// <param name="Stage">upload, queue, read, inference or busy.</param>
/// <param name="Fraction">0 to 1 within the stage.</param>
/// <param name="Attempt">The try, from 1.</param>
/// <param name="RetryIn">With <c>busy</c>: the wait before the next try.</param>
public sealed record SegmentProgress(string Stage, double Fraction, int Attempt, TimeSpan? RetryIn = null);
