using System.Text.RegularExpressions;

namespace Edu.Build.Tests;

/// <summary>
/// LibTorch has one process-wide random generator. Seeded net builds take ModelCatalogue's lock around it; anything that
/// reseeds it or draws from it outside that lock, while tests run in parallel, changes another test's "seeded" weights
/// (the cause of two red CI runs). This keeps the rule: tests and library code draw from private generators.
/// </summary>
public sealed partial class GlobalGeneratorRuleTests
{
    // A call that reseeds the global generator, or a random factory called without an explicit generator.
    [GeneratedRegex(@"\bmanual_seed\s*\(")]
    private static partial Regex Reseed();

    [GeneratedRegex(@"\b(randn|rand|randint|randperm|rand_like|randn_like|randint_like|bernoulli|multinomial|normal)\s*\(")]
    private static partial Regex Draw();

    [Fact]
    public void Tests_and_libraries_never_touch_the_global_generator_outside_the_catalogue_lock()
    {
        string root = RepositoryRoot();
        var offences = new List<string>();
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (!(rel.StartsWith("tests/") || rel.StartsWith("src/") || rel.StartsWith("plugins/") || rel.StartsWith("hosts/"))) continue;
            if (rel.Contains("/obj/") || rel.Contains("/bin/")) continue;
            if (rel == "src/Edu.Models/Catalogue/ModelCatalogue.cs") continue; // the lock itself
            if (rel.StartsWith("src/Edu.Models/Benchmarks/")) continue;         // a benchmark runs alone in its process
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].Split("//")[0];
                if (Reseed().IsMatch(line) || (Draw().IsMatch(line) && !line.Contains("generator")))
                    offences.Add($"{rel}:{i + 1}: {lines[i].Trim()}");
            }
        }
        Assert.True(offences.Count == 0,
            "draws from LibTorch's global generator (use a private torch.Generator, or ModelCatalogue.Seeded):\n" + string.Join('\n', offences));
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EDU.Framework.sln"))) return dir.FullName;
        throw new InvalidOperationException("EDU.Framework.sln not found above " + AppContext.BaseDirectory);
    }
}
