using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake;

/// <summary>
/// A backend able to build the <see cref="ILakeStore"/> for <c>Lake:Kind</c> = <see cref="Kind"/>. The folder
/// store is built in; adapters (the blob lake's <c>AddBlobLake</c>) register theirs beside <c>AddLake</c>.
/// </summary>
public interface ILakeBackend
{
    string Kind { get; }

    ILakeStore Create(LakeOptions options, IServiceProvider services);
}

public static class LakeServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ILakeStore"/> (a singleton) as configured in section "Lake", validated at start-up,
    /// built by the registered <see cref="ILakeBackend"/> whose kind <c>Lake:Kind</c> names.
    /// </summary>
    public static IServiceCollection AddLake(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedOptions<LakeOptions, LakeOptionsValidator>(configuration, LakeOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILakeBackend, FolderLakeBackend>());
        services.AddSingleton<ILakeStore>(provider =>
        {
            // Reading Value runs the validator, so a bad Kind fails here with the operator message, too.
            var options = provider.GetRequiredService<IOptions<LakeOptions>>().Value;
            var backend = provider.GetServices<ILakeBackend>().LastOrDefault(b => string.Equals(b.Kind, options.Kind, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException($"Lake:Kind '{options.Kind}' has no implementation.");
            return backend.Create(options, provider);
        });
        return services;
    }
}

/// <summary>Builds the folder store from "Lake:Folder".</summary>
internal sealed class FolderLakeBackend : ILakeBackend
{
    public string Kind => LakeOptions.FolderKind;

    public ILakeStore Create(LakeOptions options, IServiceProvider services) => new FolderLakeStore(options.Folder.Root);
}
