namespace Edu.Models.Nets;

/// <summary>
/// UNet++ (<c>unetpp</c>): nested dense skips, <c>X[i,j] = ConvBlock((j+1)f_i → f_i)(cat(X[i,0..j−1], Up_{i,j}(X[i+1,j−1])))</c>,
/// output <c>Head(X[0,depth])</c>. State keys: <c>nodes.{i}_{j}</c>, <c>up.{i}_{j}</c>.
/// </summary>
public sealed class UNetPlusPlus(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4, bool deepSupervision = false)
    : NestedUNet(nameof(UNetPlusPlus), new DenseConcatNode(), spatialDims, inChannels, classes, baseChannels, depth, deepSupervision);

/// <summary>
/// E-DU, enhanced dense U-Net (<c>edu</c>): UNet++ topology with MDE on every dense skip,
/// <c>X[i,j] = ConvBlock(f_i → f_i)(MDE_{i,j}(mean(X[i,0..j−1]), Up_{i,j}(X[i+1,j−1])))</c>. State keys: <c>nodes.{i}_{j}</c>,
/// <c>mde.{i}_{j}</c>, <c>up.{i}_{j}</c>.
/// </summary>
public sealed class EDenseUNet(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4, bool deepSupervision = false)
    : NestedUNet(nameof(EDenseUNet), new MdeOnMeanNode(), spatialDims, inChannels, classes, baseChannels, depth, deepSupervision);

/// <summary>
/// E-DU, second reading, dense (<c>edu-dense</c>, MODELS.md): UNet++ with <c>E_i = MdeLite_i(X[i,0])</c> in place of
/// <c>X[i,0]</c>. <see cref="Blocks.MdeLite"/> is the identity at initialisation, so the net then computes what
/// <see cref="UNetPlusPlus"/> with the same convolution weights computes. State keys: <c>mde.{i}</c> besides UNet++'s.
/// </summary>
public sealed class EduDense(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4, bool deepSupervision = false)
    : NestedUNet(nameof(EduDense), new EnhancedDenseNode(), spatialDims, inChannels, classes, baseChannels, depth, deepSupervision);

/// <summary>
/// E-DU, second reading, lean (<c>edu-lean</c>, MODELS.md): nested decoders without the dense pathway, MDE bridging the gap,
/// <c>X[i,j] = ConvBlock(2f_i → f_i)(cat(E_i, Up_{i,j}(X[i+1,j−1])))</c>. State keys: <c>mde.{i}</c>, <c>up.{i}_{j}</c>, <c>nodes.{i}_{j}</c>.
/// </summary>
public sealed class EduLean(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4, bool deepSupervision = false)
    : NestedUNet(nameof(EduLean), new EnhancedLeanNode(), spatialDims, inChannels, classes, baseChannels, depth, deepSupervision);
