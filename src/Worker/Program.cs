return await ProcessPools.Worker.WorkerEntryPoint.RunAsync().ConfigureAwait(false);
