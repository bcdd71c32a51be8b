# Writes the MetaImage test files (no ITK is packaged for Debian 12, so they are written by hand
# following MetaIO's format): cd tests/TestData/metaimage && /usr/bin/python3 make_metaimage.py
# TransformMatrix convention, verified in ITK's itkMetaImageIO.cxx ReadImageInformation:
#   directionAxis[jj] = transformMatrix[ii * N + jj]; SetDirection(ii, directionAxis)
# i.e. the values are the direction vectors of axis 0, axis 1, axis 2 one after another
# (ITK's direction matrix column by column).
import zlib
import numpy as np

z, y, x = np.mgrid[0:4, 0:5, 0:6]
short = (x * 100 - y * 10 + z * 1000 - 7).astype(np.int16)
# Direction (columns = axes) rotated 30° about z, third axis flipped.
c, s = np.cos(np.deg2rad(30)), np.sin(np.deg2rad(30))
D = np.array([[c, -s, 0], [s, c, 0], [0, 0, -1]])
tm = ' '.join(repr(float(v)) for v in D.T.ravel())   # column by column

hdr = f"""ObjectType = Image
NDims = 3
BinaryData = True
BinaryDataByteOrderMSB = False
CompressedData = False
TransformMatrix = {tm}
Offset = -12.5 30.25 7
CenterOfRotation = 0 0 0
AnatomicalOrientation = RAI
ElementSpacing = 0.5 0.75 2.5
DimSize = 6 5 4
ElementType = MET_SHORT
ElementDataFile = LOCAL
"""
open('oblique_short.mha', 'wb').write(hdr.encode() + short.astype('<i2').tobytes())

# .mhd + .raw, big endian unsigned short.
ushort = (x * 300 + y * 7 + z * 5000).astype(np.uint16)
open('big_endian_ushort.raw', 'wb').write(ushort.astype('>u2').tobytes())
open('big_endian_ushort.mhd', 'w').write("""ObjectType = Image
NDims = 3
BinaryData = True
BinaryDataByteOrderMSB = True
CompressedData = False
TransformMatrix = 1 0 0 0 1 0 0 0 1
Offset = 1 2 3
ElementSpacing = 1.5 1.5 3
DimSize = 6 5 4
ElementType = MET_USHORT
ElementDataFile = big_endian_ushort.raw
""")

# Compressed (zlib) 2-D float with 3 channels (interleaved per pixel).
yy, xx = np.mgrid[0:5, 0:6]
rgbf = np.stack([xx * 0.5, yy * 0.25, xx * yy * 1.0], -1).astype('<f4')
data = zlib.compress(rgbf.tobytes())
hdr2 = f"""ObjectType = Image
NDims = 2
BinaryData = True
BinaryDataByteOrderMSB = False
CompressedData = True
CompressedDataSize = {len(data)}
TransformMatrix = 1 0 0 1
Offset = 0 0
ElementSpacing = 0.1 0.2
DimSize = 6 5
ElementNumberOfChannels = 3
ElementType = MET_FLOAT
ElementDataFile = LOCAL
"""
open('compressed_float_3ch.mha', 'wb').write(hdr2.encode() + data)

for name, a in [('oblique_short', short), ('big_endian_ushort', ushort)]:
    print(name, 'sum', a.astype(np.float64).sum(), 'first', a.ravel()[:3].tolist(), 'last', a.ravel()[-1])
print('compressed_float_3ch sums per channel', [float(rgbf[..., k].sum()) for k in range(3)])
print('direction row-major', np.round(D.ravel(), 9).tolist())
