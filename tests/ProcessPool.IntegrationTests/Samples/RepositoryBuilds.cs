namespace ProcessPools.IntegrationTests;

/// <summary>
/// The tests that run <c>dotnet publish</c> or <c>dotnet pack</c> on the repository's projects: one at a time, since two
/// builds of the same project (src/Hosting and the generator, in Release) at once collide on its obj folder.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RepositoryBuilds
{
    public const string Name = "builds of the repository's projects";
}
