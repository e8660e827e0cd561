using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ProcessPools.HttpBench;

/// <summary>The jobs of the HTTP workload.</summary>
public static class HttpJobs
{
    private static readonly Lazy<byte[]> LazySource = new(MakeSource);

    /// <summary>A 1024 x 768 JPEG of a gradient with noise, made once per process.</summary>
    public static byte[] Source => LazySource.Value;

    public static int Square(int x) => x * x;

    public static Task<int> SquareAsync(int x) => Task.FromResult(x * x);

    /// <summary>Decodes the JPEG, resizes it to 256 x 192 and encodes it again; answers the thumbnail's length.</summary>
    public static int Thumbnail(byte[] jpeg)
    {
        using var image = Image.Load<Rgb24>(jpeg);
        image.Mutate(i => i.Resize(256, 192));
        using var output = new MemoryStream();
        image.Save(output, new JpegEncoder { Quality = 80 });
        return (int)output.Length;
    }

    public static Task<int> ThumbnailAsync(int unused) => Task.FromResult(Thumbnail(Source));

    private static byte[] MakeSource()
    {
        var random = new Random(7);
        using var image = new Image<Rgb24>(1024, 768);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgb24((byte)(x / 4 + random.Next(16)), (byte)(y / 3 + random.Next(16)), (byte)((x + y) / 7));
                }
            }
        });
        using var output = new MemoryStream();
        image.Save(output, new JpegEncoder { Quality = 90 });
        return output.ToArray();
    }
}
