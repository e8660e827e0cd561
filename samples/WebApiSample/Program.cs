using ProcessPools;
using WebApiSample.Jobs;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddControllers();

// The default pool, for CPU-heavy and IO-bound jobs written as static methods (Jobs/ComputeJobs.cs).
builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));

// A second, named pool for images: its workers add their own services, warm them up before the first job,
// run a DI job class, and report job failures from inside the worker.
builder.Services.AddProcessPool(ImagePool.Name, builder.Configuration.GetSection("ProcessPools:Images"))
    .ConfigureWorkerHost(ImagePool.ConfigureWorker)
    .AddWorkerInitializer<WarmKernelsInitializer>()
    .AddJob<BlurJob>()
    .AddJobExceptionHandler<LogFailedImageJobs>();

var app = builder.Build();
app.MapControllers();
app.Run();
