using System.Diagnostics;
using AotSample;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProcessPools;
using ProcessPools.Worker;

// This executable is also its own worker: started as one, it hands over to the worker loop at once.
if (WorkerEntryPoint.IsWorkerProcess)
{
    return await WorkerEntryPoint.RunAsync();
}

var clock = Stopwatch.StartNew();
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"))
    .AddJob<ChecksumJob>()
    .AddWorkerInitializer<WarmUp>()
    .AddJobExceptionHandler<CountFailures>()
    .ConfigureWorkerHost(static worker => worker.Services.AddSingleton<Hasher>());

// The serializer is code-only: in a Native AOT application it reads source-generated JSON metadata.
builder.Services.Configure<ProcessPoolOptions>(static options => options.Serializer = new SampleSerializer());

using var host = builder.Build();
await host.StartAsync();
var pool = host.Services.GetRequiredService<IProcessPool>();
Console.WriteLine($"Pool of {(await pool.GetStatusAsync()).Workers.Count} workers ready in {clock.ElapsedMilliseconds} ms (parent {Environment.ProcessId}).");

var problems = new List<string>();

// map: one job per item, results in input order.
var answers = await pool.Map(Jobs.SquareAsync, Enumerable.Range(1, 2_000));
var pids = answers.Select(a => a.Pid).Distinct().Order().ToArray();
Console.WriteLine($"map: {answers.Count} squares from workers {string.Join(", ", pids)}; sum {answers.Sum(a => a.Square)}");
Expect(answers.Select(a => a.Square).SequenceEqual(Enumerable.Range(1, 2_000).Select(x => (long)x * x)), "every square in input order");
Expect(pids.Length >= 2 && !pids.Contains(Environment.ProcessId), "results from at least two worker processes");
Expect(answers.All(a => a.Initialized), "the initializer ran in every worker before its jobs");

// a lambda: named at compile time too.
var cubes = await pool.Map(static (int x) => Task.FromResult(x * x * x), [1, 2, 3]);
Expect(cubes.SequenceEqual([1, 8, 27]), "a static lambda runs in a worker");

// a DI job class, created from the worker's container with the service ConfigureWorkerHost added.
var checksum = await pool.SendAsync(new ChecksumRequest("process pool"));
Console.WriteLine($"job class: sha256 {checksum.Sha256[..16]}... from worker {checksum.Pid}");
Expect(checksum.Sha256 == new Hasher().Sha256("process pool") && checksum.Pid != Environment.ProcessId, "the job class answers from a worker");

// an exception: its type, message and stack come back; the worker's exception handler saw it first.
try
{
    await pool.ApplyAsync(Jobs.FailAsync, "forty-two");
    problems.Add("a failing job did not fail");
}
catch (RemoteJobException exception) when (exception.Is<FormatException>())
{
    Console.WriteLine($"exception: {exception.RemoteType}: {exception.RemoteMessage}");
}

var counts = await pool.Map(static (int _) => Task.FromResult(new FailureCount(Environment.ProcessId, WorkerMemory.Failures)), Enumerable.Range(0, 64));
Expect(counts.Sum(c => c.Failures) > 0 && counts.Max(c => c.Failures) == 1, "the exception handler ran once, in the worker that ran the failed job");

// cancellation reaches the job in its worker: it ends with OperationCanceledException, and the worker stays.
using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
{
    try
    {
        await pool.ApplyAsync(Jobs.WaitForCancellationAsync, cancel.Token);
        problems.Add("a cancelled job completed");
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine("cancellation: the job was cancelled in its worker");
    }
}

// one job in a dedicated worker process, named at compile time too.
await using (var worker = await WorkerProcess.StartAsync(Jobs.SquareAsync, 12, configure: static options => options.Serializer = new SampleSerializer()))
{
    var answer = await worker;
    Console.WriteLine($"worker process {worker.ProcessId}: {answer.Square}, exit code {await worker.WaitForExitAsync()}");
    Expect(answer.Square == 144 && worker.ProcessId != Environment.ProcessId, "a dedicated worker process answers");
}

await host.StopAsync();
Console.WriteLine(problems.Count == 0 ? $"AOT sample: all checks passed in {clock.ElapsedMilliseconds} ms." : $"AOT sample FAILED: {string.Join("; ", problems)}");
return problems.Count == 0 ? 0 : 1;

void Expect(bool condition, string what)
{
    if (!condition)
    {
        problems.Add(what);
    }
}
