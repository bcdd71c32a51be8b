using System.Globalization;
using System.Text;
using Edu.Abstractions.Errors;

namespace Edu.Abstractions.Preprocessing;

/// <summary>
/// One step of a pipeline as data: a step name and its parameters, written
/// <c>name(key=value, key=value)</c>, e.g. <c>clip(min=-1000, max=400)</c>,
/// <c>zscore(mask=nonzero)</c>, <c>resample(spacing=0.8x0.8x1.5)</c>, <c>resize(size=512x512, pad=0)</c>.
/// Lists of numbers are written with <c>x</c> between them. Users read and override these as text.
/// </summary>
public sealed record PreprocessingStepSpec
{
    /// <summary>Creates a spec; names are lower case letters, digits, '-' and '_'.</summary>
    public PreprocessingStepSpec(string name, IReadOnlyDictionary<string, string>? parameters = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!IsName(name))
            throw new ArgumentException($"step name '{name}' must be lower case letters, digits, '-' or '_'", nameof(name));
        Name = name;
        var copy = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in parameters ?? new Dictionary<string, string>())
        {
            if (!IsName(k)) throw new ArgumentException($"parameter name '{k}' of step '{name}' must be lower case letters, digits, '-' or '_'", nameof(parameters));
            if (v.IndexOfAny([',', '(', ')', ';', '=']) >= 0) throw new ArgumentException($"parameter '{k}' of step '{name}' has a value with one of , ( ) ; =", nameof(parameters));
            copy[k] = v.Trim();
        }
        Parameters = copy;
    }

    /// <summary>The step name, e.g. <c>clip</c>.</summary>
    public string Name { get; }

    /// <summary>Parameters by name, sorted.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>A parameter as text, or <paramref name="fallback"/> when absent.</summary>
    public string GetString(string key, string fallback) => Parameters.TryGetValue(key, out var v) ? v : fallback;

    /// <summary>A required number; a missing or malformed value is an <see cref="InvalidInputException"/>.</summary>
    public double GetDouble(string key) =>
        Parameters.TryGetValue(key, out var v) ? ParseNumber(key, v)
        : throw new InvalidInputException(ToString(), $"step '{Name}' needs the parameter '{key}'");

    /// <summary>An optional number.</summary>
    public double GetDouble(string key, double fallback) => Parameters.TryGetValue(key, out var v) ? ParseNumber(key, v) : fallback;

    /// <summary>A required list of numbers written <c>a x b x c</c>.</summary>
    public double[] GetDoubles(string key)
    {
        if (!Parameters.TryGetValue(key, out var v))
            throw new InvalidInputException(ToString(), $"step '{Name}' needs the parameter '{key}'");
        return v.Split('x', StringSplitOptions.TrimEntries).Select(p => ParseNumber(key, p)).ToArray();
    }

    /// <summary>A copy with one parameter set (the way a user overrides a default).</summary>
    public PreprocessingStepSpec With(string key, string value)
    {
        var p = new Dictionary<string, string>(Parameters) { [key] = value };
        return new PreprocessingStepSpec(Name, p);
    }

    /// <summary>Parses <c>name</c> or <c>name(key=value, ...)</c>.</summary>
    public static PreprocessingStepSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        int open = t.IndexOf('(');
        if (open < 0) return Create(text, t, null);
        if (!t.EndsWith(')')) throw new InvalidInputException(text, "a preprocessing step is written name(key=value, ...) and must end with ')'");
        string name = t[..open].Trim();
        var parameters = new Dictionary<string, string>();
        string inner = t[(open + 1)..^1];
        foreach (var part in inner.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new InvalidInputException(text, $"parameter '{part}' is not key=value");
            parameters[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }
        return Create(text, name, parameters);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        if (Parameters.Count == 0) return Name;
        var sb = new StringBuilder(Name).Append('(');
        sb.AppendJoin(", ", Parameters.Select(p => $"{p.Key}={p.Value}"));
        return sb.Append(')').ToString();
    }

    /// <inheritdoc />
    public bool Equals(PreprocessingStepSpec? other) =>
        other is not null && Name == other.Name && Parameters.Count == other.Parameters.Count
        && Parameters.All(p => other.Parameters.TryGetValue(p.Key, out var v) && v == p.Value);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Parameters.Count);

    /// <summary>Formats a number the way specs write them (invariant culture, round-trip).</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Formats a list of numbers written <c>a x b x c</c>.</summary>
    public static string Format(IEnumerable<double> values) => string.Join("x", values.Select(Format));

    private static PreprocessingStepSpec Create(string text, string name, Dictionary<string, string>? parameters)
    {
        try { return new PreprocessingStepSpec(name, parameters); }
        catch (ArgumentException e) { throw new InvalidInputException(text, e.Message); }
    }

    private double ParseNumber(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? d
        : throw new InvalidInputException(ToString(), $"parameter '{key}' of step '{Name}' is not a number: '{value}'");

    private static bool IsName(string s) => s.Length > 0 && s.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');
}
