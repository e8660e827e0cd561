using System.Text;
using ProcessPools.Channels;

namespace ProcessPools.Supervision;

/// <summary>
/// Splits a worker's standard output or error into lines of at most <see cref="MaxLineBytes"/> bytes: the rest of
/// a longer line is counted, not kept. A worker printing one huge line (seen: 256 MiB) must not grow the parent by
/// as much, nor end up whole in a log record or in the exception message of a crash.
/// </summary>
internal sealed class BoundedLines(Action<string> onLine)
{
    public const int MaxLineBytes = 8 * 1024;

    private readonly byte[] _line = new byte[MaxLineBytes];
    private int _length;
    private long _dropped;

    /// <summary>Takes the next bytes of the stream.</summary>
    public void Feed(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var end = bytes.IndexOf((byte)'\n');
            var part = end < 0 ? bytes : bytes[..end];
            var room = MaxLineBytes - _length;
            var kept = Math.Min(room, part.Length);
            part[..kept].CopyTo(_line.AsSpan(_length));
            _length += kept;
            _dropped += part.Length - kept;
            if (end < 0)
            {
                return;
            }

            Emit();
            bytes = bytes[(end + 1)..];
        }
    }

    /// <summary>The stream ended: a last line without its newline goes out too.</summary>
    public void End()
    {
        if (_length > 0 || _dropped > 0)
        {
            Emit();
        }
    }

    private void Emit()
    {
        var length = _length > 0 && _line[_length - 1] == (byte)'\r' ? _length - 1 : _length;
        var text = Encoding.UTF8.GetString(_line, 0, length);
        onLine(_dropped == 0 ? text : $"{text}... ({_dropped} more bytes of this line dropped)");
        _length = 0;
        _dropped = 0;
    }

    /// <summary>How a worker's output stream is read on an OS.</summary>
    internal enum Reading
    {
        /// <summary>Asynchronous reads: Unix pipes are read without holding a thread between reads.</summary>
        Async,

        /// <summary>
        /// A thread of its own, outside the thread pool: on Windows a redirected standard stream is a synchronous pipe,
        /// so an "asynchronous" read blocks a thread-pool thread for the worker's whole life (two per worker).
        /// </summary>
        DedicatedThread,
    }

    /// <summary>The reading on an OS: a decision unit-tested for every OS from any one.</summary>
    public static Reading ReadingFor(HostOs os) => os == HostOs.Windows ? Reading.DedicatedThread : Reading.Async;

    /// <summary>Reads a stream to its end, line by line, as its OS reads best; <paramref name="onLine"/> gets null at the end.</summary>
    public static void Start(Stream stream, Action<string?> onLine, string name)
    {
        if (ReadingFor(HostPlatform.Current) == Reading.DedicatedThread)
        {
            new Thread(() => Read(stream, onLine)) { IsBackground = true, Name = name }.Start();
            return;
        }

        _ = ReadAsync(stream, onLine);
    }

    /// <summary>Reads a stream to its end on the thread pool, line by line; <paramref name="onLine"/> gets null at the end.</summary>
    public static Task ReadAsync(Stream stream, Action<string?> onLine) => Task.Run(async () =>
    {
        var lines = new BoundedLines(line => onLine(line));
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lines.Feed(buffer.AsSpan(0, read));
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The worker is gone; what it printed so far is all there is.
        }

        lines.End();
        onLine(null);
    });

    /// <summary>Reads a stream to its end on the calling thread, with blocking reads; <paramref name="onLine"/> gets null at the end.</summary>
    public static void Read(Stream stream, Action<string?> onLine)
    {
        var lines = new BoundedLines(line => onLine(line));
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                lines.Feed(buffer.AsSpan(0, read));
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The worker is gone; what it printed so far is all there is.
        }

        lines.End();
        onLine(null);
    }
}
