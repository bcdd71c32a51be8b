using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Nifti;

/// <summary>
/// NIfTI's RAS affine to and from ITK's LPS geometry, as ITK's NiftiImageIO does it: the sform when
/// sform_code &gt; 0 (and it is orthogonal), else the qform when qform_code &gt; 0 (quaternion, qfac = pixdim[0] for the third
/// axis), else spacing only. RAS → LPS negates the first two rows; spacing = column norms;
/// direction = columns normalised; origin = the translation with its first two values negated.
/// </summary>
internal static class NiftiGeometry
{
    /// <summary>The LPS geometry a header describes, or null with the problem.</summary>
    public static ImageGeometry? FromHeader(NiftiHeader h, VolumeSize size, out string? problem)
    {
        problem = null;
        double[]? m = null; // 3×4 RAS affine, row-major
        if (h.SformCode > 0)
        {
            m = (double[])h.SRow.Clone();
            bool usable = IsUsable(m);
            if (!usable || !IsOrthogonal(m))
            {
                // As ITK: a degenerate or sheared sform falls back to the qform; without one there is no valid geometry.
                if (h.QformCode <= 0)
                {
                    problem = usable
                        ? "the sform has shear (its columns are not orthogonal) and there is no qform; an image direction must be orthonormal"
                        : "sform_code is set but the sform matrix is degenerate or not finite";
                    return null;
                }
                m = null;
            }
        }
        if (m is null && h.QformCode > 0)
        {
            m = FromQuaternion(h);
            if (!IsUsable(m))
            {
                problem = "qform_code is set but the quaternion, offset or pixdim are not finite";
                return null;
            }
        }
        if (m is null)
        {
            var spacing = new double[3];
            for (int i = 0; i < 3; i++)
            {
                double d = Math.Abs(h.PixDim[i + 1]);
                spacing[i] = d > 0 && double.IsFinite(d) && i < Math.Max(1, h.Dim[0]) ? d : 1;
            }
            return new ImageGeometry(size, spacing, [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        }
        var sp = new double[3];
        var dir = new double[9];
        for (int c = 0; c < 3; c++)
        {
            sp[c] = Math.Sqrt(m[c] * m[c] + m[4 + c] * m[4 + c] + m[8 + c] * m[8 + c]);
            for (int r = 0; r < 3; r++)
                dir[r * 3 + c] = (r < 2 ? -1 : 1) * m[r * 4 + c] / sp[c];
        }
        double[] origin = [-m[3], -m[7], m[11]];
        return new ImageGeometry(size, sp, origin, dir);
    }

    /// <summary>Sets sform and qform (both code 1, scanner anatomical) and pixdim from an LPS geometry.</summary>
    public static void ToHeader(ImageGeometry g, NiftiHeader h)
    {
        var d = g.Direction;
        var ras = new double[9];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                ras[r * 3 + c] = (r < 2 ? -1 : 1) * d[r * 3 + c];
        double[] rasOrigin = [-g.Origin[0], -g.Origin[1], g.Origin[2]];
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
                h.SRow[r * 4 + c] = ras[r * 3 + c] * g.Spacing[c];
            h.SRow[r * 4 + 3] = rasOrigin[r];
        }
        // qform: a proper rotation; a left-handed direction puts qfac = -1 and flips the third column.
        double det = ras[0] * (ras[4] * ras[8] - ras[5] * ras[7]) - ras[1] * (ras[3] * ras[8] - ras[5] * ras[6])
                   + ras[2] * (ras[3] * ras[7] - ras[4] * ras[6]);
        double qfac = det < 0 ? -1 : 1;
        if (qfac < 0)
        {
            ras[2] = -ras[2]; ras[5] = -ras[5]; ras[8] = -ras[8];
        }
        var (b, c2, d2) = ToQuaternion(ras);
        h.QuaternB = b; h.QuaternC = c2; h.QuaternD = d2;
        for (int i = 0; i < 3; i++) h.QOffset[i] = rasOrigin[i];
        h.PixDim[0] = qfac;
        for (int i = 0; i < 3; i++) h.PixDim[i + 1] = g.Spacing[i];
        h.QformCode = 1;
        h.SformCode = 1;
    }

    private static bool IsUsable(double[] m)
    {
        if (m.Any(v => !double.IsFinite(v)))
            return false;
        for (int c = 0; c < 3; c++)
        {
            if (m[c] * m[c] + m[4 + c] * m[4 + c] + m[8 + c] * m[8 + c] <= 1e-20)
                return false;
        }
        return true;
    }

    private static bool IsOrthogonal(double[] m)
    {
        var n = new double[3];
        for (int c = 0; c < 3; c++)
            n[c] = Math.Sqrt(m[c] * m[c] + m[4 + c] * m[4 + c] + m[8 + c] * m[8 + c]);
        for (int a = 0; a < 3; a++)
        {
            for (int b = a + 1; b < 3; b++)
            {
                double dot = (m[a] * m[b] + m[4 + a] * m[4 + b] + m[8 + a] * m[8 + b]) / (n[a] * n[b]);
                if (Math.Abs(dot) > 1e-4)
                    return false;
            }
        }
        return true;
    }

    // nifti1_io.c nifti_quatern_to_mat44.
    private static double[] FromQuaternion(NiftiHeader h)
    {
        double b = h.QuaternB, c = h.QuaternC, d = h.QuaternD;
        double a = 1.0 - (b * b + c * c + d * d);
        if (a < 1e-7)
        {
            a = 1.0 / Math.Sqrt(b * b + c * c + d * d);
            b *= a; c *= a; d *= a;
            a = 0;
        }
        else
        {
            a = Math.Sqrt(a);
        }
        double xd = h.PixDim[1] > 0 ? h.PixDim[1] : 1, yd = h.PixDim[2] > 0 ? h.PixDim[2] : 1, zd = h.PixDim[3] > 0 ? h.PixDim[3] : 1;
        if (h.Dim[0] < 2) yd = 1;
        if (h.Dim[0] < 3) zd = 1;
        if (h.PixDim[0] < 0) zd = -zd;
        return
        [
            (a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, h.QOffset[0],
            2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, h.QOffset[1],
            2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, h.QOffset[2],
        ];
    }

    // nifti1_io.c nifti_mat44_to_quatern, for an orthonormal proper rotation r (row-major).
    private static (double B, double C, double D) ToQuaternion(double[] r)
    {
        double r11 = r[0], r12 = r[1], r13 = r[2], r21 = r[3], r22 = r[4], r23 = r[5], r31 = r[6], r32 = r[7], r33 = r[8];
        double a = r11 + r22 + r33 + 1.0, b, c, d;
        if (a > 0.5)
        {
            a = 0.5 * Math.Sqrt(a);
            b = 0.25 * (r32 - r23) / a;
            c = 0.25 * (r13 - r31) / a;
            d = 0.25 * (r21 - r12) / a;
        }
        else
        {
            double xd = 1.0 + r11 - (r22 + r33), yd = 1.0 + r22 - (r11 + r33), zd = 1.0 + r33 - (r11 + r22);
            if (xd > 1.0)
            {
                b = 0.5 * Math.Sqrt(xd);
                c = 0.25 * (r12 + r21) / b;
                d = 0.25 * (r13 + r31) / b;
                a = 0.25 * (r32 - r23) / b;
            }
            else if (yd > 1.0)
            {
                c = 0.5 * Math.Sqrt(yd);
                b = 0.25 * (r12 + r21) / c;
                d = 0.25 * (r23 + r32) / c;
                a = 0.25 * (r13 - r31) / c;
            }
            else
            {
                d = 0.5 * Math.Sqrt(zd);
                b = 0.25 * (r13 + r31) / d;
                c = 0.25 * (r23 + r32) / d;
                a = 0.25 * (r21 - r12) / d;
            }
            if (a < 0.0)
            {
                b = -b; c = -c; d = -d;
            }
        }
        return (b, c, d);
    }
}
