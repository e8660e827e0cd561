// snippet: readme-use
using ProcessPools;

await using var pool = await ProcessPool.StartAsync(o => { o.Processes = 4; o.ChildConcurrency = 16; });
var numbers = Enumerable.Range(1, 1000);
string[] urls = ["https://example.org/", "https://example.com/"];

int square = await pool.ApplyAsync(Jobs.SquareAsync, 7);                  // one job
IReadOnlyList<int> squares = await pool.Map(Jobs.SquareAsync, numbers);    // all results, input order
await foreach (var r in pool.Map(Jobs.FetchAsync, urls)) { }              // streamed, input order
await foreach (var (i, r) in pool.Map(Jobs.FetchAsync, urls).AsCompleted()) { } // completion order
var sums = await pool.StarMap(Jobs.AddAsync, [(1, 2), (3, 4)]);            // a tuple of arguments per job

await using var worker = await WorkerProcess.StartAsync(Jobs.FetchAsync, urls[0]); // one job, its own process
string page = await worker;

public static class Jobs
{
    public static Task<int> SquareAsync(int x) => Task.FromResult(x * x);
    public static Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);
    public static async Task<string> FetchAsync(string url, CancellationToken ct) =>   // ct is bound in the child
        await new HttpClient().GetStringAsync(url, ct);
}
// end snippet
