// The HTTP workload's application (bench/ProcessPool.Benchmarks, workload "http"): the same jobs answered in-process,
// through the pool, and through a one-off WorkerProcess, behind a minimal API, for a load generator (wrk) to drive.
//
//   dotnet bench/ProcessPool.HttpBench/bin/Release/net10.0/ProcessPool.HttpBench.dll --urls http://127.0.0.1:5090
using ProcessPools;
using ProcessPools.HttpBench;

if (ProcessPools.Worker.WorkerEntryPoint.IsWorkerProcess)
{
    return await ProcessPools.Worker.WorkerEntryPoint.RunAsync();
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
var app = builder.Build();

app.MapGet("/health", () => "ok");

// A trivial job: the pool's overhead per request against the same answer computed in the request.
app.MapGet("/inprocess/square", (int x) => HttpJobs.Square(x));
app.MapGet("/pool/square", (IProcessPool pool, int x, CancellationToken ct) => pool.ApplyAsync(HttpJobs.SquareAsync, x, ct));
app.MapGet("/worker/square", async (int x, CancellationToken ct) =>
{
    await using var worker = await WorkerProcess.StartAsync(HttpJobs.SquareAsync, x, cancellationToken: ct);
    return await worker;
});

// A CPU-heavy job: a real JPEG (made once at start) decoded, resized and encoded again with ImageSharp.
app.MapGet("/inprocess/thumbnail", () => HttpJobs.Thumbnail(HttpJobs.Source));
app.MapGet("/pool/thumbnail", (IProcessPool pool, CancellationToken ct) => pool.ApplyAsync(HttpJobs.ThumbnailAsync, 0, ct));

// The pool's worker pids, for the kill storm.
app.MapGet("/workers", async (IProcessPool pool, CancellationToken ct) =>
    (await pool.GetStatusAsync(ct)).Workers.Where(w => w.ProcessId is not null && w.State == WorkerState.Ready).Select(w => w.ProcessId!.Value).ToArray());

// The harness waits for this line: the pool's hosted service has started its workers by then.
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine("ready"));
await app.RunAsync();
return 0;
