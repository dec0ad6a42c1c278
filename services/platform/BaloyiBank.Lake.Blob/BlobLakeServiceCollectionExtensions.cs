using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake.Blob;

public static class BlobLakeServiceCollectionExtensions
{
    /// <summary>
    /// Makes <c>Lake:Kind = blob</c> available to <c>AddLake</c>: binds "Lake:Blob" to <see cref="BlobLakeOptions"/>,
    /// validates it at start-up when the kind is blob, and registers the backend that builds a <see cref="BlobLakeStore"/>.
    /// Call it beside <c>services.AddLake(configuration)</c> (either order).
    /// </summary>
    public static IServiceCollection AddBlobLake(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<BlobLakeOptions>().Bind(configuration.GetSection(BlobLakeOptions.SectionName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LakeOptions>, BlobLakeOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILakeBackend, BlobLakeBackend>());
        return services;
    }
}

/// <summary>Builds the blob store from "Lake:Blob".</summary>
internal sealed class BlobLakeBackend : ILakeBackend
{
    public string Kind => LakeOptions.BlobKind;

    public ILakeStore Create(LakeOptions options, IServiceProvider services)
    {
        var blob = services.GetRequiredService<IOptions<BlobLakeOptions>>().Value;
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger<BlobLakeStore>();
        return new BlobLakeStore(blob, logger);
    }
}
