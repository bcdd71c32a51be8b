# Makes the PNG/JPEG/BMP test files with Pillow (Debian 12 python3-pil) and prints the reference
# numbers the tests hard-code:  cd tests/TestData/png && /usr/bin/python3 make_png.py
import numpy as np
from PIL import Image

y, x = np.mgrid[0:37, 0:53]
g8 = ((x * 5 + y * 3) % 256).astype(np.uint8)
g16 = (x * 1000 + y * 17 + 3).astype(np.uint16)
rgb = np.stack([g8, (255 - g8), ((x * y) % 256).astype(np.uint8)], -1)

Image.fromarray(g8, 'L').save('grey8.png')
Image.fromarray(g16).save('grey16.png')                      # mode I;16 → 16-bit grey PNG
Image.fromarray(rgb, 'RGB').save('rgb.png')
Image.fromarray(np.dstack([rgb, np.full(g8.shape, 128, np.uint8)]), 'RGBA').save('rgba.png')
mask = ((x // 10 + y // 10) % 4).astype(np.uint8)
p = Image.fromarray(mask, 'P')
p.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
p.save('palette.png')
Image.fromarray(((x + y) % 2 == 0)).save('bilevel.png')   # mode 1 → 1-bit grey
Image.fromarray(g8, 'L').save('grey8.bmp')
Image.fromarray(rgb, 'RGB').save('rgb.bmp')
Image.fromarray(g8, 'L').save('grey.jpg', quality=95)
Image.fromarray(rgb, 'RGB').save('rgb.jpg', quality=95)

for f in ['grey8.png', 'grey16.png', 'rgb.png', 'rgba.png', 'palette.png', 'bilevel.png', 'grey8.bmp', 'rgb.bmp', 'grey.jpg', 'rgb.jpg']:
    im = Image.open(f)
    a = np.asarray(im.convert('RGB') if im.mode in ('RGBA', 'P') and f != 'palette.png' else im)
    if f == 'palette.png':
        a = np.asarray(im.convert('RGB'))
    a = a.astype(np.float64)
    if a.ndim == 3:
        a = a[:, :, :3]
    print(f, im.mode, im.size, 'sum %.1f' % a.sum(), 'px(0,0)', a[0, 0].tolist(), 'px(y=36,x=52)', a[36, 52].tolist(), 'px(y=5,x=7)', a[5, 7].tolist())
