using System.Text;
using Edu.Dicom.Web;

namespace Edu.Dicom.Tests.Web;

/// <summary>The streaming multipart/related reader on bodies written by hand (RFC 2046 framing, edge cases).</summary>
public sealed class MultipartRelatedReaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edu-multipart-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static MemoryStream Body(string text) => new(Encoding.Latin1.GetBytes(text));

    [Fact]
    public async Task Parts_are_split_at_the_boundary_with_their_content_type_and_exact_bytes()
    {
        // a preamble, a part whose content holds CRLF and a near-boundary, and a part without headers
        string body = "preamble\r\n--b1\r\nContent-Type: application/dicom\r\n\r\nDICM\r\n--b\r\nx\r\n--b1\r\n\r\nsecond\r\n--b1--\r\nepilogue";
        var parts = await new MultipartRelatedReader(Body(body), "b1").SavePartsAsync(_folder, 1 << 20, default);
        Assert.Equal(2, parts.Count);
        Assert.Equal("application/dicom", parts[0].ContentType);
        Assert.Equal("DICM\r\n--b\r\nx", File.ReadAllText(parts[0].File, Encoding.Latin1));
        Assert.Null(parts[1].ContentType);
        Assert.Equal("second", File.ReadAllText(parts[1].File, Encoding.Latin1));
    }

    [Fact]
    public async Task A_part_spanning_many_reads_is_copied_whole()
    {
        var content = new string('a', 200_000) + "\r\n-" + new string('b', 100_000);
        var parts = await new MultipartRelatedReader(Body($"--zz\r\n\r\n{content}\r\n--zz--"), "zz").SavePartsAsync(_folder, 1 << 20, default);
        Assert.Equal(content, File.ReadAllText(Assert.Single(parts).File, Encoding.Latin1));
    }

    [Fact]
    public async Task A_body_cut_off_inside_a_part_is_an_error_not_a_short_file()
    {
        var e = await Assert.ThrowsAsync<FormatException>(() => new MultipartRelatedReader(Body("--b\r\n\r\nDICM..."), "b").SavePartsAsync(_folder, 1 << 20, default));
        Assert.Contains("cut off", e.Message);
    }

    [Fact]
    public async Task A_part_over_the_limit_stops_the_read()
    {
        var e = await Assert.ThrowsAsync<FormatException>(() =>
            new MultipartRelatedReader(Body($"--b\r\n\r\n{new string('x', 5000)}\r\n--b--"), "b").SavePartsAsync(_folder, 1000, default));
        Assert.Contains("larger than the limit", e.Message);
    }

    [Fact]
    public async Task A_body_without_its_boundary_is_an_error()
    {
        await Assert.ThrowsAsync<FormatException>(() => new MultipartRelatedReader(Body("no parts here"), "b").SavePartsAsync(_folder, 1000, default));
    }
}
