-- Harbor's repository description, set by `PUT /projects/{project_name}/repositories/{repository_name}`.
ALTER TABLE repositories ADD COLUMN description TEXT COLLATE "C" NOT NULL DEFAULT '';
