using System.Text;
using ProcessPools.Channels;
using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Supervision;

/// <summary>Regression: a 256 MiB output line grew the parent by 646 MB, and a 64 MiB stderr line ended up whole in a crash's exception message.</summary>
public sealed class BoundedLinesTests
{
    [Fact]
    public void Lines_split_across_reads_come_out_whole()
    {
        var lines = new List<string>();
        var splitter = new BoundedLines(lines.Add);

        splitter.Feed("first li"u8);
        splitter.Feed("ne\r\nsecond\nthi"u8);
        splitter.Feed("rd"u8);
        splitter.End();

        Assert.Equal(["first line", "second", "third"], lines);
    }

    [Fact]
    public void A_huge_line_is_kept_to_its_first_bytes_and_the_rest_is_counted()
    {
        var lines = new List<string>();
        var splitter = new BoundedLines(lines.Add);
        var chunk = Encoding.ASCII.GetBytes(new string('x', 1024 * 1024));

        for (var i = 0; i < 64; i++)
        {
            splitter.Feed(chunk); // 64 MiB in one line
        }

        splitter.Feed("\nafter\n"u8);

        Assert.Equal(2, lines.Count);
        Assert.StartsWith(new string('x', BoundedLines.MaxLineBytes), lines[0], StringComparison.Ordinal);
        Assert.EndsWith($"... ({(64L * 1024 * 1024) - BoundedLines.MaxLineBytes} more bytes of this line dropped)", lines[0], StringComparison.Ordinal);
        Assert.True(lines[0].Length < BoundedLines.MaxLineBytes + 100);
        Assert.Equal("after", lines[1]);
    }

    [Theory]
    [InlineData("Linux", "Async")]
    [InlineData("MacOS", "Async")]
    [InlineData("Windows", "DedicatedThread")] // synchronous redirected pipes: an async read would hold a thread-pool thread
    public void A_workers_output_is_read_the_way_its_OS_reads_best(string os, string expected) =>
        Assert.Equal(expected, BoundedLines.ReadingFor(Enum.Parse<HostOs>(os)).ToString());

    [Fact]
    public async Task The_blocking_reader_gives_the_same_lines_as_the_async_one_and_then_null()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("first\r\nGrüße ✓\nlast without newline");
        var (blocking, asynchronous) = (new List<string?>(), new List<string?>());

        BoundedLines.Read(new MemoryStream(bytes), blocking.Add);
        await BoundedLines.ReadAsync(new MemoryStream(bytes), asynchronous.Add);

        Assert.Equal(["first", "Grüße ✓", "last without newline", null], blocking);
        Assert.Equal(blocking, asynchronous);
    }
}
