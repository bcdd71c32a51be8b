namespace Edu.Client.Tests;

public sealed class FileChunksTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edu-client-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_file_becomes_chunks_of_at_most_the_chunk_size_that_join_back_to_its_bytes()
    {
        var bytes = new byte[(5 * FileChunks.DefaultChunkBytes / 2) + 7];
        new Random(3).NextBytes(bytes);
        string path = Path.Combine(_dir, "ct.nii.gz");
        await File.WriteAllBytesAsync(path, bytes);

        var chunks = new List<Edu.V1.FileChunk>();
        await foreach (var chunk in FileChunks.ReadAsync(path, "upload.nii.gz"))
            chunks.Add(chunk);

        Assert.Equal(3, chunks.Count);
        Assert.All(chunks, c => Assert.Equal("upload.nii.gz", c.FileName));
        Assert.All(chunks, c => Assert.True(c.Data.Length <= FileChunks.DefaultChunkBytes));
        Assert.Equal([false, false, true], chunks.Select(c => c.Last));
        Assert.Equal(bytes, chunks.SelectMany(c => c.Data.ToByteArray()).ToArray());
    }

    [Fact]
    public async Task An_empty_file_is_one_empty_last_chunk()
    {
        string path = Path.Combine(_dir, "empty.png");
        await File.WriteAllBytesAsync(path, []);

        var chunks = new List<Edu.V1.FileChunk>();
        await foreach (var chunk in FileChunks.ReadAsync(path, "empty.png", chunkBytes: 16))
            chunks.Add(chunk);

        var only = Assert.Single(chunks);
        Assert.True(only.Last);
        Assert.Equal(0, only.Data.Length);
    }

    [Theory]
    [InlineData("127.0.0.1:50051")]
    [InlineData("ftp://127.0.0.1:50051")]
    public void A_channel_needs_an_http_or_https_address(string address)
    {
        var e = Assert.Throws<ArgumentException>(() => EduChannel.Open(address, apiKey: null));
        Assert.Contains(address, e.Message);
    }
}
