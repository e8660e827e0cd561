using ProcessPools;

// snippet: guide-worker-process
await using var worker = await WorkerProcess.StartAsync(Jobs.CountPrimesAsync, 5_000_000);
Console.WriteLine(worker.ProcessId);
int primes = await worker;                 // the result (Worker.join() + result)
int exitCode = await worker.WaitForExitAsync();
await worker.KillAsync();                  // the job fails with WorkerLostException
// end snippet

// snippet: guide-start
await using var pool = await ProcessPool.StartAsync(o => { o.Processes = 4; o.ChildConcurrency = 16; });
// end snippet

public static class Jobs
{
    public static Task<int> CountPrimesAsync(int below) => Task.FromResult(Enumerable.Range(2, Math.Max(0, below - 2)).Count(n => Enumerable.Range(2, (int)Math.Sqrt(n) - 1).All(d => n % d != 0)));
}
