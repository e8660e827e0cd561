using ProcessPools;
using ProcessPools.Testing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts a <see cref="FakeProcessPool"/> where an application's code injects its pool, for tests that build the application's services.</summary>
public static class FakeProcessPoolServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="FakeProcessPool"/> where <c>AddProcessPool</c> registers the pool of the same name (the
    /// default pool: <see cref="IProcessPool"/>; a named one: keyed by its name), replacing the application's pool and
    /// the hosted service that would start its workers: no worker process starts. Call it after the application's
    /// registrations (in <c>WebApplicationFactory</c>, from <c>ConfigureTestServices</c>). Resolve
    /// <see cref="FakeProcessPool"/> (keyed the same way) to read its calls and inject faults.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the pool's name, settings, clock and worker services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFakeProcessPool(this IServiceCollection services, Action<FakeProcessPoolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var pool = new FakeProcessPool(configure);
        var isDefault = pool.Name == ProcessPoolDiagnostics.DefaultPoolName;
        var key = isDefault ? string.Empty : pool.Name; // the key AddProcessPool() gives the default pool

        // The application's pool of that name goes, with the hosted service that would start its workers.
        services.RemoveProcessPool(key);
        services.AddKeyedSingleton(key, pool);
        services.AddKeyedSingleton<IProcessPool>(key, pool);
        if (isDefault)
        {
            services.AddSingleton(pool);
            services.AddSingleton<IProcessPool>(pool);
        }

        return services;
    }
}
