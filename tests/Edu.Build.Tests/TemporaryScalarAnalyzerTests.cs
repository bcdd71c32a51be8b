using System.Collections.Immutable;
using Edu.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Edu.Build.Tests;

/// <summary>EDU0001 (build/analyzers): a temporary TorchSharp Scalar is an error; an owned one is not.</summary>
public sealed class TemporaryScalarAnalyzerTests
{
    [Theory]
    [InlineData("x.mul(2.0)", "2.0")]
    [InlineData("x > 0", "0")]
    [InlineData("x.add_(x, alpha: factor)", "factor")]
    [InlineData("x.fill_(factor.ToScalar())", "factor.ToScalar()")]
    [InlineData("x.mul((Scalar)factor)", "factor")]
    [InlineData("x.add(x)", "x.add(x)")]
    [InlineData("x + x", "x + x")]
    [InlineData("x * 2.0", "x * 2.0")]
    [InlineData("nn.BatchNorm2d(4).forward(x)", "nn.BatchNorm2d(4)")]
    public void TemporaryScalar_IsReported(string expression, string flagged)
    {
        var diagnostics = Analyze($"Tensor F(Tensor x, double factor) => {expression};");
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("EDU0001", diagnostic.Id);
        Assert.Contains($"'{flagged}'", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("using var s = factor.ToScalar(); return x.mul(s);")]
    [InlineData("using var s = (Scalar)factor; return x > s;")]
    [InlineData("return x.mul(Kept);")]
    [InlineData("return x.add(x, Kept).add_(Kept, Kept);")]
    [InlineData("return x.mul(x);")]
    public void OwnedScalar_IsNotReported(string body)
    {
        Assert.Empty(Analyze($"static readonly Scalar Kept = 2.0; Tensor F(Tensor x, double factor) {{ {body} }}"));
    }

    private static ImmutableArray<Diagnostic> Analyze(string members)
    {
        string source = $"using TorchSharp; using static TorchSharp.torch; class C {{ {members} }}";
        var references = new[] { typeof(object), typeof(TorchSharp.torch), typeof(System.Runtime.GCSettings) }
            .Select(t => t.Assembly.Location)
            .Concat(Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "System.Runtime*.dll"))
            .Distinct()
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create("snippet", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        return compilation.WithAnalyzers([new TemporaryScalarAnalyzer()]).GetAnalyzerDiagnosticsAsync().Result;
    }
}
