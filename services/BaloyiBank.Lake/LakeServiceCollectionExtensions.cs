using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake;

public static class LakeServiceCollectionExtensions
{
    /// <summary>Registers <see cref="ILakeStore"/> (a singleton) as configured in section "Lake", validated at start-up.</summary>
    public static IServiceCollection AddLake(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedOptions<LakeOptions, LakeOptionsValidator>(configuration, LakeOptions.SectionName);
        services.AddSingleton<ILakeStore>(provider =>
        {
            // Reading Value runs the validator, so a bad Kind fails here with the operator message, too.
            var options = provider.GetRequiredService<IOptions<LakeOptions>>().Value;
            return options.Kind.ToUpperInvariant() switch
            {
                "FOLDER" => new FolderLakeStore(options.Folder.Root),
                _ => throw new InvalidOperationException($"Lake:Kind '{options.Kind}' has no implementation."),
            };
        });
        return services;
    }
}
