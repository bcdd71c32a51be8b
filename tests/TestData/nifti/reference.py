# Prints the reference numbers the NIfTI tests hard-code: /usr/bin/python3 reference.py
import numpy as np, nibabel as nib
F = np.diag([-1.0, -1.0, 1.0])
for f in ['anatomical.nii', 'anatomical_le.nii', 'anatomical_pair.hdr', 'example4d.nii.gz', 'standard.nii.gz',
          'example_nifti2.nii.gz', 'scaled_qform.nii.gz', 'rgb24.nii']:
    img = nib.load(f)
    h = img.header
    a = img.affine
    m = F @ a[:3, :3]
    sp = np.linalg.norm(m, axis=0)
    d = m / sp
    o = F @ a[:3, 3]
    data = np.asanyarray(img.dataobj)
    if data.dtype.names:
        data = np.stack([data[n] for n in data.dtype.names], -1)
    data = data.astype(np.float64)
    print(f, 'shape', img.shape, 'dtype', h.get_data_dtype(), 'q/s', int(h['qform_code']), int(h['sform_code']),
          'endian', h.endianness)
    print('  spacing', np.round(sp, 6).tolist())
    print('  origin', np.round(o, 6).tolist())
    print('  dir', np.round(d.ravel(), 6).tolist())
    print('  sum %.6f min %.6f max %.6f mean %.9f' % (data.sum(), data.min(), data.max(), data.mean()))
    flat = data.reshape(data.shape[:3] + (-1,) if data.ndim >= 3 else data.shape, order='F')
    print('  first', data.ravel(order='F')[:3].tolist(), 'last', data.ravel(order='F')[-1])
