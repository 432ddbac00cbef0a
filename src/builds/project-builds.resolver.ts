import { GraphQLResolveInfo } from 'graphql';
import { Args, ArgsType, Ctx, Field, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { Page } from '../db/pagination';
import { PageArgs, selectedNodeFields } from '../graphql/connection';
import { accountOf, GraphQLContext } from '../graphql/context';
import { readWithin } from '../graphql/load-by-id';
import { BuildStatus } from '../graphql/enums';
import { Project } from '../projects/project.entity';
import { ProjectType } from '../projects/project.type';
import { Build } from './build.entity';
import { BuildConnection } from './build.type';

@ArgsType()
class ProjectBuildsArgs extends PageArgs {
  @Field(() => BuildStatus, { nullable: true })
  status?: BuildStatus | null;
}

/** `Project.builds`: the link from a project to its builds belongs to builds, the domain it reaches. */
@Resolver(() => ProjectType)
export class ProjectBuildsResolver {
  @FieldResolver(() => BuildConnection)
  builds(
    @Root() project: Project,
    @Args() args: ProjectBuildsArgs,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Page<Build>> {
    return readWithin(ctx, () => ctx.services.builds.listForProject(accountOf(ctx), project.id, args, selectedNodeFields(info)));
  }
}
