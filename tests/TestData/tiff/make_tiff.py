# Makes the TIFF test files with Pillow (Debian 12 python3-pil) and libtiff-tools' tiffcp
# (libtiff 4.5.0), and prints the reference numbers the tests hard-code:
#   cd tests/TestData/tiff && /usr/bin/python3 make_tiff.py
import subprocess
import numpy as np
from PIL import Image

y, x = np.mgrid[0:37, 0:53]
u8 = ((x * 5 + y * 3) % 256).astype(np.uint8)
u16 = (x * 1000 + y * 17 + 3).astype(np.uint16)
i32 = (x * 100000 - y * 7777).astype(np.int32)
f32 = (x * 0.25 - y * 1.5 + 0.125).astype(np.float32)
rgb = np.stack([u8, 255 - u8, ((x * y) % 256).astype(np.uint8)], -1)

Image.fromarray(u8, 'L').save('u8.tif')
Image.fromarray(u16).save('u16.tif')                       # I;16
Image.fromarray(i32, 'I').save('i32.tif')                  # 32-bit signed
Image.fromarray(f32, 'F').save('f32.tif')                  # 32-bit float
Image.fromarray(rgb, 'RGB').save('rgb.tif')
pages = [Image.fromarray((u16 + 10 * k).astype(np.uint16)) for k in range(4)]
pages[0].save('multipage_u16.tif', save_all=True, append_images=pages[1:])
subprocess.run(['tiffcp', '-c', 'lzw', 'u16.tif', 'u16_lzw.tif'], check=True)
subprocess.run(['tiffcp', '-c', 'zip', 'rgb.tif', 'rgb_deflate.tif'], check=True)
subprocess.run(['tiffcp', '-c', 'zip', '-t', '-w', '16', '-l', '16', 'f32.tif', 'f32_tiled_deflate.tif'], check=True)
subprocess.run(['tiffcp', '-c', 'lzw', 'multipage_u16.tif', 'multipage_u16_lzw.tif'], check=True)

for f in ['u8.tif', 'u16.tif', 'i32.tif', 'f32.tif', 'rgb.tif', 'multipage_u16.tif', 'u16_lzw.tif', 'rgb_deflate.tif',
          'f32_tiled_deflate.tif', 'multipage_u16_lzw.tif']:
    im = Image.open(f)
    frames = []
    for k in range(getattr(im, 'n_frames', 1)):
        im.seek(k)
        frames.append(np.asarray(im).astype(np.float64))
    a = np.stack(frames)
    print(f, im.mode, im.size, 'pages', len(frames), 'sum %.4f' % a.sum(), 'first', a.ravel()[:2].tolist(), 'last', a.ravel()[-1])
