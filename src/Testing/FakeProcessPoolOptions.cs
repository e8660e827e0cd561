using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace ProcessPools.Testing;

/// <summary>How a <see cref="FakeProcessPool"/> behaves: the pool settings it shares with a real pool, and what a test controls.</summary>
public sealed class FakeProcessPoolOptions
{
    private readonly List<JobTarget> _jobClasses = [];

    /// <summary>Gets or sets the pool's name, as <c>AddProcessPool(name)</c> gives it.</summary>
    public string Name { get; set; } = ProcessPoolDiagnostics.DefaultPoolName;

    /// <summary>
    /// Gets the settings a real pool would have. Read here: <see cref="ProcessPoolOptions.Serializer"/>,
    /// <see cref="ProcessPoolOptions.MaxMessageSize"/>, <see cref="ProcessPoolOptions.JobTimeout"/>,
    /// <see cref="ProcessPoolOptions.ChildConcurrency"/> (how many items of a map run at once) and
    /// <see cref="ProcessPoolOptions.MapWindow"/>. Process settings have nothing to act on in-process.
    /// </summary>
    public ProcessPoolOptions Pool { get; } = new() { ChildConcurrency = 1 };

    /// <summary>Gets or sets the clock of job timeouts; a <c>FakeTimeProvider</c> makes them deterministic.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets the services of the (in-process) worker: what job classes are constructed from, what a job's
    /// <see cref="IServiceProvider"/> parameter resolves, and the <see cref="IJobExceptionHandler"/>s told of failed jobs.
    /// Logging and a <see cref="WorkerContext"/> (worker 0) are added, as a worker's host has them.
    /// </summary>
    public IServiceCollection WorkerServices { get; } = new ServiceCollection();

    internal IReadOnlyList<JobTarget> JobClasses => _jobClasses;

    /// <summary>Registers a job class, as <c>AddProcessPool().AddJob&lt;TJob&gt;()</c> does: <c>SendAsync</c> requests of its argument type run it.</summary>
    /// <typeparam name="TJob">The job class.</typeparam>
    /// <returns>These options.</returns>
    public FakeProcessPoolOptions AddJob<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces | DynamicallyAccessedMemberTypes.PublicConstructors)] TJob>()
        where TJob : class
    {
        _jobClasses.Add(JobTarget.FromJobType(typeof(TJob)));
        WorkerServices.AddScoped<TJob>();
        return this;
    }

    /// <summary>Adds a job exception handler, as <c>AddProcessPool().AddJobExceptionHandler&lt;THandler&gt;()</c> does: told of each job that throws, before its caller is answered.</summary>
    /// <typeparam name="THandler">The handler.</typeparam>
    /// <returns>These options.</returns>
    public FakeProcessPoolOptions AddJobExceptionHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>()
        where THandler : class, IJobExceptionHandler
    {
        WorkerServices.AddSingleton<IJobExceptionHandler, THandler>();
        return this;
    }
}
