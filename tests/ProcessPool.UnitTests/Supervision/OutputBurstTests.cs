using Microsoft.Extensions.Time.Testing;
using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Supervision;

public sealed class OutputBurstTests
{
    [Fact]
    public void Lines_of_one_burst_go_out_as_one_record_once_the_wait_lapses()
    {
        var clock = new FakeTimeProvider();
        var records = new List<string>();
        var burst = new OutputBurst(clock, TimeSpan.FromMilliseconds(20), records.Add);

        burst.Add("Unhandled exception. System.InvalidOperationException: boom");
        burst.Add("   at Jobs.Crash()");
        clock.Advance(TimeSpan.FromMilliseconds(19));
        burst.Add("   at Program.Main()");
        Assert.Empty(records);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["Unhandled exception. System.InvalidOperationException: boom\n   at Jobs.Crash()\n   at Program.Main()"], records);
    }

    [Fact]
    public void A_line_after_the_burst_starts_a_new_record()
    {
        var clock = new FakeTimeProvider();
        var records = new List<string>();
        var burst = new OutputBurst(clock, TimeSpan.FromMilliseconds(20), records.Add);

        burst.Add("first");
        clock.Advance(TimeSpan.FromSeconds(1));
        burst.Add("second");
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(["first", "second"], records);
    }

    [Fact]
    public void A_flood_goes_out_in_records_of_bounded_size_without_waiting()
    {
        var clock = new FakeTimeProvider();
        var records = new List<string>();
        var burst = new OutputBurst(clock, TimeSpan.FromMilliseconds(20), records.Add);

        for (var i = 0; i < OutputBurst.MaxLines * 2 + 1; i++)
        {
            burst.Add($"line {i}");
        }

        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(OutputBurst.MaxLines, r.Split('\n').Length));
        burst.Flush(); // the output ended
        Assert.Equal("line 400", records[^1]);
    }
}
