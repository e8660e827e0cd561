namespace ProcessPools.IntegrationTests;

public sealed record Point(int X, int Y);

/// <summary>Jobs the tests send to worker processes: static methods, as a user would write them.</summary>
public static class Jobs
{
    public static Task<int> SquareAsync(int x) => Task.FromResult(x * x);

    public static Task<string?> DescribeAsync(object item) => Task.FromResult(item.ToString());

    public static Task<int> SquareUnless15000Async(int x) => x == 15_000 ? throw new InvalidOperationException("no 15000") : Task.FromResult(x * x);

    /// <summary>Item 15000's result is a delegate, which JSON cannot write; the others are their numbers.</summary>
    public static Task<object> UnserializableAt15000Async(int x) => Task.FromResult<object>(x == 15_000 ? (Func<int>)(() => 1) : x);

    public static async Task<int> SlowSquareAsync(int x)
    {
        await Task.Delay(Random.Shared.Next(0, 3));
        return x * x;
    }

    public static Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    public static ValueTask<string> ConcatAsync(string a, int b, bool c) => ValueTask.FromResult($"{a}-{b}-{c}");

    public static Task<int> SumFourAsync(int a, int b, int c, int d) => Task.FromResult(a + b + c + d);

    public static Task<int> GetProcessIdAsync() => Task.FromResult(Environment.ProcessId);

    public static async Task<int> GetProcessIdWithArgumentAsync(int item)
    {
        await Task.Delay(1);
        return Environment.ProcessId;
    }

    public static Task<int> GetProcessIdOfItemAsync(int item) => Task.FromResult(Environment.ProcessId);

    public static Task<Point> MovePointAsync(Point point, int dx) => Task.FromResult(point with { X = point.X + dx });

    public static Task DoNothingAsync() => Task.CompletedTask;

    public static ValueTask DoNothingValueAsync(int x) => ValueTask.CompletedTask;

    public static Task FailOnSevenAsync(int x) => x == 7 ? Task.FromException(new InvalidOperationException($"item {x}")) : Task.CompletedTask;

    public static Task TouchAsync(string directory, int x) => File.WriteAllTextAsync(Path.Combine(directory, $"{x}.txt"), "done");

    public static Task<int> ThrowInvalidOperationAsync(string message) => throw new InvalidOperationException(message);

    public static async Task<int> ThrowArgumentNullLaterAsync(string name)
    {
        await Task.Yield();
        throw new ArgumentNullException(name, "nested failure");
    }

    public static Task<int> ThrowWithInnerAsync() =>
        throw new InvalidOperationException("outer", new FormatException("inner"));

    public static async Task<int> WaitForCancellationAsync(int x, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return x;
    }

    public static Task<int> CountNodesAsync(Node node) => Task.FromResult(node.Next is null ? 1 : 2);

    public static Task<Func<int>> ReturnUnserializableAsync() => Task.FromResult<Func<int>>(() => 1);

    /// <summary>Blocks until <paramref name="parties"/> jobs of this worker arrived at once, via a barrier shared through a named semaphore file.</summary>
    public static async Task<int> RendezvousAsync(string directory, int parties, CancellationToken cancellationToken)
    {
        // Each job leaves a file; it returns only when the directory holds 'parties' files, which can only
        // happen when that many jobs are running at the same time (none returns before all have arrived).
        var mine = Path.Combine(directory, Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(mine, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        using var watcher = new FileSystemWatcher(directory);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Created += (_, _) =>
        {
            if (Directory.GetFiles(directory).Length >= parties)
            {
                arrived.TrySetResult();
            }
        };
        watcher.EnableRaisingEvents = true;
        if (Directory.GetFiles(directory).Length >= parties)
        {
            arrived.TrySetResult();
        }

        await arrived.Task.WaitAsync(cancellationToken);
        return Environment.ProcessId;
    }
}

/// <summary>A shape whose JSON names its type: read back as the derived type it was.</summary>
[System.Text.Json.Serialization.JsonPolymorphic]
[System.Text.Json.Serialization.JsonDerivedType(typeof(Circle), "circle")]
public abstract record Shape;

public sealed record Circle(double Radius) : Shape;

/// <summary>A shape whose JSON does not name its type: System.Text.Json writes it but cannot read it back.</summary>
public abstract record UnnamedShape;

public sealed record Triangle(double Side) : UnnamedShape;

public static class ShapeJobs
{
    /// <summary>Leaves a file behind (its side effect), then answers a shape its caller could not read.</summary>
    public static async Task<UnnamedShape> MakeAsync(string marker)
    {
        await File.WriteAllTextAsync(marker, "ran");
        return new Triangle(1);
    }

    public static Task<Shape> GrowAsync(Shape shape) =>
        Task.FromResult<Shape>(shape is Circle circle ? new Circle(circle.Radius * 2) : shape);
}

public sealed class Node
{
    public Node? Next { get; set; }
}

/// <summary>A DI job class: created in the worker from its own container.</summary>
public sealed class GreetingJob(Microsoft.Extensions.Hosting.IHostEnvironment environment) : IProcessJob<string, string>
{
    public static string Describe() => "worker";

    public Task<string> ExecuteAsync(string argument, CancellationToken cancellationToken) =>
        Task.FromResult($"hello {argument} from {(environment.ContentRootPath.Length > 0 ? "worker" : "?")} pid {Environment.ProcessId}");
}
