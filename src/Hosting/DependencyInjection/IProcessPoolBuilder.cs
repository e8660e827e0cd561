using Microsoft.Extensions.DependencyInjection;

namespace ProcessPools;

/// <summary>What <c>AddProcessPool</c> returns: the pool's name and the services, for the calls that configure it further.</summary>
public interface IProcessPoolBuilder
{
    /// <summary>Gets the pool's name; the empty string for the default pool.</summary>
    string Name { get; }

    /// <summary>Gets the application's services.</summary>
    IServiceCollection Services { get; }
}

internal sealed record ProcessPoolBuilder(string Name, IServiceCollection Services) : IProcessPoolBuilder;

/// <summary>Marks a pool name as registered, so a second <c>AddProcessPool</c> for it adds nothing twice.</summary>
internal sealed record ProcessPoolRegistration(string Name);
