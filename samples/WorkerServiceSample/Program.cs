using WorkerServiceSample;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
builder.Services.AddOptions<FeedOptions>().BindConfiguration(FeedOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddHostedService<ReadingsProcessor>();

var host = builder.Build();
host.Run();
