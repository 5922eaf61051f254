using UserPointApi.Data;
using UserPointApi.Points;

namespace UserPointApi.Api;

public static class UserEndpoints
{
    public static void MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/v1/users").WithTags("Users");

        // The seed's k6 script posts junk here: the body is ignored, never read.
        users.MapPost("", async (PointQueries queries, CancellationToken ct) => Ok(await queries.CreateUserAsync(ct)))
            .WithSummary("Creates a user and its point row (amount 0) in one transaction; any body is ignored.")
            .Produces<ApiEnvelope<UserDto>>();

        users.MapGet("/{userId}", async (string userId, PointQueries queries, CancellationToken ct) =>
            {
                var id = Ids.ParseOrThrow(userId, "userId");
                var user = await queries.GetUserAsync(id, ct)
                    ?? throw new ApiException(StatusCodes.Status404NotFound, ErrorCodes.UserNotFound, "No such user.");
                return Ok(user);
            })
            .WithSummary("Gets a user.")
            .Produces<ApiEnvelope<UserDto>>()
            .Produces<ApiEnvelope<object>>(StatusCodes.Status404NotFound);
    }

    internal static IResult Ok<T>(T data) => Results.Text(ApiJson.Success(data), "application/json; charset=utf-8", statusCode: StatusCodes.Status200OK);
}
