using System.Diagnostics;
using Edu.Abstractions.Errors;

namespace Edu.Dicom.Tests;

/// <summary>
/// Malformed DICOM must end in a clean <see cref="InvalidInputException"/> (or a correct read), never in
/// another exception, a hang, or a process abort: Debian's GDCM aborts on many of these mutants, so
/// this test also proves <see cref="DicomStructure"/> stops them first (an abort would kill the test host).
/// </summary>
public sealed class DicomFuzzTests
{
    public static TheoryData<string> Seeds() =>
    [
        "CT_small.dcm", "MR_small_RLE.dcm", "SC_rgb_rle_2frame.dcm", "JPEG2000.dcm", "MR_small_jpeg_ls_lossless.dcm",
        "rtdose.dcm", "SC_ybr_full_422_uncompressed.dcm", "liver_1frame.dcm", "JPGExtended.dcm",
        "rtdose_rle_1frame.dcm", "rtdose_expb_1frame.dcm", // the project's own decoder (RLE, big endian)
    ];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_mutant_is_read_or_refused_cleanly_and_quickly(string seed)
    {
        string dir = Directory.CreateTempSubdirectory("edu-dicom-fuzz-").FullName;
        try
        {
            int refused = 0, read = 0;
            foreach (var (name, bytes) in DicomMutants.From(seed, File.ReadAllBytes(TestFiles.Dicom(seed)), seed.Length))
            {
                string path = Path.Combine(dir, "mutant.dcm");
                File.WriteAllBytes(path, bytes);
                var watch = Stopwatch.StartNew();
                try
                {
                    var volume = DicomFileReader.Read(path);
                    Assert.True(volume.Voxels.Length > 0, name);
                    Assert.DoesNotContain("-truncated-", name); // a truncated file must never pass as complete
                    read++;
                }
                catch (InvalidInputException e)
                {
                    Assert.Equal(path, e.Input);
                    refused++;
                    continue;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name}: {e.GetType().Name}: {e.Message}");
                }
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"{name} took {watch.Elapsed}");
            }
            Assert.True(refused >= 9, $"{seed}: only {refused} mutants refused");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Structure_check_names_the_truncated_element()
    {
        var error = Assert.Throws<InvalidInputException>(() => DicomStructure.Validate(TestFiles.Dicom("MR_truncated.dcm")));
        Assert.Contains("(7FE0,0010) declares 8192 bytes but only 8130 remain", error.Message);
    }

    [Fact]
    public void Structure_check_reads_the_image_attributes()
    {
        var attributes = DicomStructure.Validate(TestFiles.Dicom("JPEG2000.dcm"));

        Assert.Equal("1.2.840.10008.1.2.4.91", attributes.TransferSyntaxUid);
        Assert.Equal(1024, attributes.Rows);
        Assert.Equal(256, attributes.Columns);
        Assert.True(attributes.PixelDataEncapsulated);
    }
}
