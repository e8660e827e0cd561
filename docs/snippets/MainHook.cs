// snippet: main-hook
using ProcessPools.Worker;

if (WorkerEntryPoint.IsWorkerProcess)
{
    return await WorkerEntryPoint.RunAsync();
}

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
var app = builder.Build();
// ... the application as before ...
app.Run();
return 0; // a program that returns a value in one place returns one everywhere
// end snippet
