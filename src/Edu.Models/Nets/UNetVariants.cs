namespace Edu.Models.Nets;

/// <summary>U-Net (MODELS.md <c>unet</c>): skip by concatenation, <c>D[i] = ConvBlock(2f_i → f_i)(cat(X[i,0], Up(D[i+1])))</c>.</summary>
public sealed class UNet(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4)
    : SkipUNet(nameof(UNet), SkipKind.Concat, spatialDims, inChannels, classes, baseChannels, depth);

/// <summary>Attention U-Net (<c>attention-unet</c>): U-Net with the skip gated, <c>cat(Gate_i(u, X[i,0]), u)</c>.</summary>
public sealed class AttentionUNet(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4)
    : SkipUNet(nameof(AttentionUNet), SkipKind.Gate, spatialDims, inChannels, classes, baseChannels, depth);

/// <summary>U-Net with MDE skips (<c>unet-mde</c>): <c>D[i] = ConvBlock(f_i → f_i)(MDE_i(X[i,0], u))</c>.</summary>
public sealed class UNetMde(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4)
    : SkipUNet(nameof(UNetMde), SkipKind.Mde, spatialDims, inChannels, classes, baseChannels, depth);

/// <summary>Attention U-Net with MDE (<c>attention-unet-mde</c>): <c>D[i] = ConvBlock(f_i → f_i)(MDE_i(Gate_i(u, X[i,0]), u))</c>.</summary>
public sealed class AttentionUNetMde(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4)
    : SkipUNet(nameof(AttentionUNetMde), SkipKind.GateMde, spatialDims, inChannels, classes, baseChannels, depth);
