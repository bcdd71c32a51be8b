# Makes the generated NIfTI test files with nibabel (Debian 12 python3-nibabel 5.0.0):
#   cd tests/TestData/nifti && /usr/bin/python3 make_nifti.py
import numpy as np
import nibabel as nib

anat = nib.load('anatomical.nii')

# Little-endian copy of anatomical.nii (which is big-endian).
be = nib.Nifti1Image(np.asanyarray(anat.dataobj), anat.affine, anat.header.as_byteswapped('<'))
be.to_filename('anatomical_le.nii')

# .hdr/.img pair of anatomical.nii.
nib.Nifti1Pair(np.asanyarray(anat.dataobj), anat.affine, anat.header).to_filename('anatomical_pair.hdr')

# int16 with scl_slope/scl_inter, qform only (rotated, left-handed: qfac -1), sform_code 0.
rng = np.random.default_rng(7)
raw = rng.integers(-500, 1500, size=(7, 6, 5), dtype=np.int16)
theta = np.deg2rad(30)
rot = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
aff = np.eye(4)
aff[:3, :3] = rot @ np.diag([0.8, 0.9, -2.5])
aff[:3, 3] = [10.5, -20.25, 30.0]
img = nib.Nifti1Image(raw, None)
img.set_qform(aff, code=1)
img.set_sform(None, code=0)
img.header.set_slope_inter(2.0, -1024.0)
img.header.set_data_dtype(np.int16)
img.to_filename('scaled_qform.nii.gz')

# RGB24.
rgbdt = np.dtype([('R', 'u1'), ('G', 'u1'), ('B', 'u1')])
rgb = np.zeros((4, 3, 2), dtype=rgbdt)
rgb['R'] = np.arange(24).reshape(4, 3, 2)
rgb['G'] = 100 + np.arange(24).reshape(4, 3, 2)
rgb['B'] = 200
nib.Nifti1Image(rgb, np.diag([2.0, 3.0, 4.0, 1.0])).to_filename('rgb24.nii')
