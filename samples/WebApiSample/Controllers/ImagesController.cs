using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using ProcessPools;
using WebApiSample.Jobs;

namespace WebApiSample.Controllers;

/// <summary>The named "images" pool: a DI job class, called with <c>SendAsync</c>.</summary>
[ApiController]
[Route("images")]
public sealed class ImagesController([FromKeyedServices(ImagePool.Name)] IProcessPool images) : ControllerBase
{
    /// <summary>POST /images/blur with <c>{"width":640,"height":480,"radius":3,"seed":42}</c>.</summary>
    [HttpPost("blur")]
    public Task<BlurResult> Blur([FromBody] BlurBody body, CancellationToken cancellationToken) =>
        images.SendAsync(new BlurRequest(body.Width, body.Height, body.Radius, body.Seed), cancellationToken);
}

public sealed record BlurBody(
    [Range(1, 8192)] int Width,
    [Range(1, 8192)] int Height,
    [Range(0, 32)] int Radius,
    int Seed);
