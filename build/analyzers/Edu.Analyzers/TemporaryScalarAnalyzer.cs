using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Edu.Analyzers;

/// <summary>
/// EDU0001: a TorchSharp <c>Scalar</c> made on the fly from a number (an implicit or explicit conversion, or
/// <c>ToScalar()</c>) and handed straight to a tensor call. TorchSharp 0.107 frees such a scalar only in its finalizer
/// and does not keep it alive across the native call, so a garbage collection during the call frees it under LibTorch:
/// training died now and then with "Unknown scalar type" (dotnet/TorchSharp#1434, #1496). Use a process-wide constant
/// (<c>Scalars.Of(0.5)</c>) or a scalar owned by a <c>using</c> declaration for the length of the calls that read it.
/// TorchSharp also makes such scalars itself where it fills in a number: <c>add(x)</c> and <c>add_(x)</c> pass alpha 1,
/// <c>addcdiv(a, b)</c> value 1, and the tensor operators that take a C# number, or that add (<c>a + b</c>, <c>1 - a</c>),
/// convert inside. Those calls are reported too: pass every number explicitly (<c>a.add(b, Scalars.One)</c>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TemporaryScalarAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The rule.</summary>
    public static readonly DiagnosticDescriptor Rule = new(
        "EDU0001",
        "Temporary TorchSharp Scalar",
        "'{0}' becomes a TorchSharp Scalar that nothing keeps alive during the native call: use Scalars.Of for a constant, or 'using var s = value.ToScalar();'",
        "Reliability",
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "TorchSharp frees a temporary Scalar in its finalizer, which may run while LibTorch still reads it.");

    /// <summary>The rule for a call whose TorchSharp implementation makes the temporary scalar itself.</summary>
    public static readonly DiagnosticDescriptor InsideRule = new(
        "EDU0001",
        "Temporary TorchSharp Scalar",
        "'{0}' makes a temporary TorchSharp Scalar inside TorchSharp ({1}), which nothing keeps alive during the native call: pass every number as a kept scalar, as in a.add(b, Scalars.One)",
        "Reliability",
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "TorchSharp frees a temporary Scalar in its finalizer, which may run while LibTorch still reads it.");

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule, InsideRule);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var scalar = start.Compilation.GetTypeByMetadataName("TorchSharp.Scalar");
            if (scalar is null) return;
            start.RegisterOperationAction(c => AnalyzeConversion(c, scalar), OperationKind.Conversion);
            start.RegisterOperationAction(c => AnalyzeInvocation(c, scalar), OperationKind.Invocation);
            var tensor = start.Compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor");
            if (tensor is null) return;
            start.RegisterOperationAction(c => AnalyzeOperator(c, tensor, scalar), OperationKind.Binary, OperationKind.Unary);
            start.RegisterOperationAction(c => AnalyzeForwarder(c, tensor, scalar), OperationKind.Invocation);
        });
    }

    private static void AnalyzeConversion(OperationAnalysisContext context, INamedTypeSymbol scalar)
    {
        var conversion = (IConversionOperation)context.Operation;
        if (conversion.OperatorMethod is null || !SymbolEqualityComparer.Default.Equals(conversion.Type, scalar)) return;
        if (IsOwned(conversion)) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, conversion.Operand.Syntax.GetLocation(), conversion.Operand.Syntax.ToString()));
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, INamedTypeSymbol scalar)
    {
        var call = (IInvocationOperation)context.Operation;
        if (call.TargetMethod.Name != "ToScalar" || !SymbolEqualityComparer.Default.Equals(call.Type, scalar)) return;
        if (IsOwned(call)) return;
        context.ReportDiagnostic(Diagnostic.Create(Rule, call.Syntax.GetLocation(), call.Syntax.ToString()));
    }

    private static void AnalyzeOperator(OperationAnalysisContext context, INamedTypeSymbol tensor, INamedTypeSymbol scalar)
    {
        var method = context.Operation switch
        {
            IBinaryOperation b => b.OperatorMethod,
            IUnaryOperation u => u.OperatorMethod,
            _ => null,
        };
        if (method is null || !SymbolEqualityComparer.Default.Equals(method.ContainingType, tensor)) return;
        string? why = null;
        if (method.Parameters.Any(p => IsNumber(p.Type))) why = "the operator converts its C# number";
        else if (method.Name == "op_Addition") why = "'+' is add with alpha 1";
        else if (method.Name == "op_Subtraction" && SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, scalar)) why = "'scalar - tensor' is negative().add(scalar) with alpha 1";
        if (why is not null)
            context.ReportDiagnostic(Diagnostic.Create(InsideRule, context.Operation.Syntax.GetLocation(), context.Operation.Syntax.ToString(), why));
    }

    private static void AnalyzeForwarder(OperationAnalysisContext context, INamedTypeSymbol tensor, INamedTypeSymbol scalar)
    {
        var method = ((IInvocationOperation)context.Operation).TargetMethod;
        if (!method.ContainingNamespace.ToDisplayString().StartsWith("TorchSharp", System.StringComparison.Ordinal)) return;
        bool onTensor = SymbolEqualityComparer.Default.Equals(method.ContainingType, tensor);
        int own = method.IsStatic && !onTensor ? 1 : 0; // torch.add(a, b) takes the tensor as its first parameter
        int args = method.Parameters.Length - own;
        string? why = (method.Name, args) switch
        {
            ("add" or "add_", 1) => "without alpha it passes 1",
            ("addcdiv" or "addcdiv_", 2) => "without value it passes 1",
            ("celu" or "celu_" or "elu" or "elu_", _) when onTensor => "it passes its constants as scalars",
            ("BatchNorm1d" or "BatchNorm2d" or "BatchNorm3d", _) when method.ContainingType.Name == "nn" =>
                "its forward adds a temporary 1 to num_batches_tracked on every training pass; use KeptScalarBatchNorm",
            _ => null,
        };
        if (why is not null && (onTensor || method.ContainingType.Name is "torch" or "nn"))
            context.ReportDiagnostic(Diagnostic.Create(InsideRule, context.Operation.Syntax.GetLocation(), context.Operation.Syntax.ToString(), why));
    }

    private static bool IsNumber(ITypeSymbol type) => type.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64
        or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Byte or SpecialType.System_Int16;

    /// <summary>
    /// A scalar that is kept: the initializer of a local (a <c>using</c> declaration disposes it after its last use;
    /// a plain local must be disposed by the code), a field or property, or a returned value.
    /// </summary>
    private static bool IsOwned(IOperation operation)
    {
        var parent = operation.Parent;
        while (parent is IConversionOperation { OperatorMethod: null } or IParenthesizedOperation) parent = parent.Parent;
        return parent is IVariableInitializerOperation or IFieldInitializerOperation or IPropertyInitializerOperation
            or IReturnOperation or ISimpleAssignmentOperation
            || (parent is IAnonymousFunctionOperation or IBlockOperation && operation.Syntax.Parent is Microsoft.CodeAnalysis.CSharp.Syntax.ArrowExpressionClauseSyntax);
    }
}
