using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edu.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace Edu.Worker.Tests.Security;

/// <summary>
/// TLS the way an operator sets it up (docs/api.md, Security): standard Kestrel configuration keys naming a
/// certificate file, no code. A real gRPC client over https that trusts exactly that certificate gets answers;
/// one that does not trust it gets no answer at all.
/// </summary>
public sealed class TlsTests
{
    private const string Password = "pfx-pass-for-tests";

    private static DateTime Soon => DateTime.UtcNow.AddSeconds(30);

    [Fact]
    public async Task A_pfx_named_in_Kestrel_Endpoints_serves_grpc_over_https_to_a_client_that_trusts_it()
    {
        using var temp = new TempDir();
        using var certificate = SelfSigned();
        string pfx = temp.Sub("worker.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, Password));

        await using var worker = await Running.StartAsync(temp, new Dictionary<string, string>
        {
            ["Kestrel:Endpoints:grpc:Url"] = "https://127.0.0.1:0",
            ["Kestrel:Endpoints:grpc:Certificate:Path"] = pfx,
            ["Kestrel:Endpoints:grpc:Certificate:Password"] = Password,
        });

        await AssertServedOnlyToClientsTrusting(worker.Address, certificate);
    }

    [Fact]
    public async Task A_pem_certificate_and_key_with_Http2_protocols_serve_grpc_over_https_to_a_client_that_trusts_it()
    {
        using var temp = new TempDir();
        using var certificate = SelfSigned();
        string pem = temp.Sub("worker.pem"), key = temp.Sub("worker.key");
        await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem());
        using (var rsa = certificate.GetRSAPrivateKey()!)
            await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem());

        await using var worker = await Running.StartAsync(temp, new Dictionary<string, string>
        {
            ["Kestrel:Endpoints:grpc:Url"] = "https://127.0.0.1:0",
            ["Kestrel:Endpoints:grpc:Protocols"] = "Http2",
            ["Kestrel:Endpoints:grpc:Certificate:Path"] = pem,
            ["Kestrel:Endpoints:grpc:Certificate:KeyPath"] = key,
        });

        await AssertServedOnlyToClientsTrusting(worker.Address, certificate);
    }

    [Fact]
    public async Task An_https_url_uses_the_default_certificate_from_Kestrel_Certificates_Default()
    {
        using var temp = new TempDir();
        using var certificate = SelfSigned();
        string pfx = temp.Sub("worker.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, Password));

        // as in WorkerHost's summary: EDU_Kestrel__Certificates__Default__Path with --urls https://…
        await using var worker = await Running.StartAsync(temp, new Dictionary<string, string>
        {
            ["urls"] = "https://127.0.0.1:0",
            ["Kestrel:Certificates:Default:Path"] = pfx,
            ["Kestrel:Certificates:Default:Password"] = Password,
        });

        await AssertServedOnlyToClientsTrusting(worker.Address, certificate);
    }

    private static async Task AssertServedOnlyToClientsTrusting(string address, X509Certificate2 certificate)
    {
        // trusts exactly this certificate: the chain is self-signed (a chain error), everything else (the name) must hold
        using (var trusting = Channel(address, certificate.GetCertHashString(HashAlgorithmName.SHA256)))
        {
            var models = await new ModelService.ModelServiceClient(trusting).ListModelsAsync(new ListModelsRequest(), deadline: Soon);
            Assert.Empty(models.Models);
            var health = await new Health.HealthClient(trusting).CheckAsync(new HealthCheckRequest(), deadline: Soon);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }

        // the system trust store does not know a self-signed certificate
        using (var system = GrpcChannel.ForAddress(address))
            await AssertRefused(system);

        // trusts another certificate for the same name
        using (var other = SelfSigned())
        using (var pinnedElsewhere = Channel(address, other.GetCertHashString(HashAlgorithmName.SHA256)))
            await AssertRefused(pinnedElsewhere);
    }

    private static async Task AssertRefused(GrpcChannel channel)
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: Soon));
        Assert.Contains(e.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.IsType<HttpRequestException>(e.InnerException, exactMatch: false);
    }

    /// <summary>A gRPC channel whose TLS accepts only the server certificate with this SHA-256 thumbprint (and a matching name).</summary>
    private static GrpcChannel Channel(string address, string sha256)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, errors) =>
                    presented is not null
                    && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                    && string.Equals(presented.GetCertHashString(HashAlgorithmName.SHA256), sha256, StringComparison.OrdinalIgnoreCase),
            },
        };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    /// <summary>A self-signed server certificate for CN=localhost, SAN DNS localhost and IP 127.0.0.1.</summary>
    private static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
    }

    /// <summary>A worker started as an operator starts one: every setting on the command line, no URL but the configured one.</summary>
    private sealed class Running : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Running(WebApplication app)
        {
            _app = app;
            Address = WorkerHost.Addresses(app).Single();
            Assert.StartsWith("https://127.0.0.1:", Address, StringComparison.Ordinal);
            Assert.NotEqual(0, new Uri(Address).Port); // the port Kestrel bound, not the 0 asked for
        }

        public string Address { get; }

        public static async Task<Running> StartAsync(TempDir temp, Dictionary<string, string> kestrel)
        {
            var settings = new Dictionary<string, string>(kestrel)
            {
                ["Worker:ModelsPath"] = temp.Sub("models"),
                ["Worker:DataPath"] = temp.Sub("data"),
                ["Worker:MetricsUrl"] = "",
                ["Logging:LogLevel:Default"] = "Warning",
            };
            var app = WorkerHost.Build([.. settings.Select(s => $"--{s.Key}={s.Value}")]);
            try
            {
                await WorkerHost.StartAsync(app);
                return new Running(app);
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
