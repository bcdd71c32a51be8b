using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Edu.Plugins;

/// <summary>What the host reads from a plugin assembly's metadata before loading any of it.</summary>
internal sealed record AssemblyFacts(string Version, string? TargetFramework, int? ContractVersion)
{
    private const string ContractAttribute = "EduPluginContractAttribute";

    /// <summary>Reads the facts; throws <see cref="BadImageFormatException"/> when the file is not a .NET assembly.</summary>
    public static AssemblyFacts Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata) throw new BadImageFormatException("the file has no .NET metadata");
        var md = pe.GetMetadataReader();
        if (!md.IsAssembly) throw new BadImageFormatException("the file is a .NET module, not an assembly");
        var assembly = md.GetAssemblyDefinition();
        string version = assembly.Version.ToString();
        string? framework = null;
        int? contract = null;
        foreach (var handle in assembly.GetCustomAttributes())
        {
            var attribute = md.GetCustomAttribute(handle);
            string? type = AttributeTypeName(md, attribute);
            if (type is null) continue;
            var blob = md.GetBlobReader(attribute.Value);
            if (blob.Length < 2 || blob.ReadUInt16() != 1) continue;
            switch (type)
            {
                case "System.Runtime.Versioning.TargetFrameworkAttribute":
                    framework = blob.ReadSerializedString();
                    break;
                case "System.Reflection.AssemblyInformationalVersionAttribute":
                    version = blob.ReadSerializedString() ?? version;
                    break;
                case "Edu.Abstractions.Plugins." + ContractAttribute:
                    contract = blob.ReadInt32();
                    break;
            }
        }
        return new AssemblyFacts(version, framework, contract);
    }

    private static string? AttributeTypeName(MetadataReader md, CustomAttribute attribute)
    {
        EntityHandle type;
        if (attribute.Constructor.Kind == HandleKind.MemberReference)
            type = md.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
        else if (attribute.Constructor.Kind == HandleKind.MethodDefinition)
            type = md.GetMethodDefinition((MethodDefinitionHandle)attribute.Constructor).GetDeclaringType();
        else
            return null;
        return type.Kind switch
        {
            HandleKind.TypeReference => Name(md, md.GetTypeReference((TypeReferenceHandle)type).Namespace, md.GetTypeReference((TypeReferenceHandle)type).Name),
            HandleKind.TypeDefinition => Name(md, md.GetTypeDefinition((TypeDefinitionHandle)type).Namespace, md.GetTypeDefinition((TypeDefinitionHandle)type).Name),
            _ => null,
        };
    }

    private static string Name(MetadataReader md, StringHandle ns, StringHandle name) =>
        md.GetString(ns) is { Length: > 0 } n ? $"{n}.{md.GetString(name)}" : md.GetString(name);
}
