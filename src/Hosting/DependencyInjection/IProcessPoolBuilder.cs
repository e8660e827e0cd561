namespace Microsoft.Extensions.DependencyInjection;

/// <summary>What <c>AddProcessPool</c> returns: the pool's name and the services, for the calls that configure it further.</summary>
public interface IProcessPoolBuilder
{
    /// <summary>Gets the pool's name; the empty string for the default pool.</summary>
    string Name { get; }

    /// <summary>Gets the application's services.</summary>
    IServiceCollection Services { get; }
}

/// <summary>The builder <c>AddProcessPool</c> returns.</summary>
internal sealed class ProcessPoolBuilder(string name, IServiceCollection services) : IProcessPoolBuilder
{
    public string Name { get; } = name;

    public IServiceCollection Services { get; } = services;
}

/// <summary>Marks a pool name as registered, so a second <c>AddProcessPool</c> for it adds nothing twice.</summary>
internal sealed class ProcessPoolRegistration(string name)
{
    public string Name { get; } = name;
}
